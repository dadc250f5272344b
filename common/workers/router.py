"""Registration of action handlers by action type: routing is a dict lookup, never if/elif."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from pydantic import BaseModel

from common.models.actions import DomainAction, ErrorDetail

HandlerResult = BaseModel | dict[str, Any] | None
Handler = Callable[[DomainAction, Any, Any], Awaitable[HandlerResult]]
# What "given up" means for an action's domain: run once when the action ends in failure for good (an error
# no retry fixes, or its last delivery failed), e.g. an ingestion marks its document failed with the reason.
FailureHandler = Callable[[DomainAction, ErrorDetail, Any], Awaitable[None]]
H = TypeVar("H", bound=Callable[..., Awaitable[HandlerResult]])
D = TypeVar("D")  # the service's deps (QueryDeps, IngestionDeps...) its handlers receive


@dataclass(frozen=True)
class Route:
    action_type: str
    handler: Handler
    payload_model: type[BaseModel] | None
    on_failure: FailureHandler | None = None

    def parse(self, data: dict[str, Any]) -> Any:
        """Validate `data` against the registered model (raises pydantic.ValidationError)."""
        return self.payload_model.model_validate(data) if self.payload_model else data


class ActionRouter(Generic[D]):
    """`router: ActionRouter[QueryDeps] = ActionRouter()`; handlers keep their own signatures."""

    def __init__(self) -> None:
        self._routes: dict[str, Route] = {}

    def handle(
        self,
        action_type: str,
        payload_model: type[BaseModel] | None = None,
        *,
        on_failure: FailureHandler | None = None,
    ) -> Callable[[H], H]:
        """Decorator: `@router.handle("query.search", SearchRequest)`; keeps the handler's own signature."""

        def register(handler: H) -> H:
            self.add(action_type, handler, payload_model, on_failure=on_failure)
            return handler

        return register

    def add(
        self,
        action_type: str,
        handler: Handler,
        payload_model: type[BaseModel] | None = None,
        *,
        on_failure: FailureHandler | None = None,
    ) -> None:
        if action_type in self._routes:
            raise ValueError(f"handler for {action_type!r} already registered")
        self._routes[action_type] = Route(action_type, handler, payload_model, on_failure)

    def include(self, other: ActionRouter[D]) -> None:
        for route in other._routes.values():
            self.add(route.action_type, route.handler, route.payload_model, on_failure=route.on_failure)

    def get(self, action_type: str) -> Route | None:
        return self._routes.get(action_type)

    @property
    def action_types(self) -> list[str]:
        return sorted(self._routes)


def result_to_dict(result: HandlerResult) -> dict[str, Any] | None:
    if isinstance(result, BaseModel):
        return result.model_dump(mode="json")
    return result
