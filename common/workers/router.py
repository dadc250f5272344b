"""Registration of action handlers by contract: routing is a dict lookup, never if/elif.

A handler takes the action, its request model and the service's deps, and returns the contract's reply model
(None for actions without a reply); `handle` ties all three types to the contract and to the router's deps."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from pydantic import BaseModel

from common.contracts.contract import Contract, Rep, Req
from common.models.actions import DomainAction, ErrorDetail

D = TypeVar("D")  # the service's deps (QueryDeps, IngestionDeps...) its handlers receive
Handler = Callable[[DomainAction, Req, D], Awaitable[Rep]]  # Handler[request, deps, reply]
# What "given up" means for an action's domain: run once when the action ends in failure for good (an error
# no retry fixes, or its last delivery failed), e.g. an ingestion marks its document failed with the reason.
FailureHandler = Callable[[DomainAction, ErrorDetail, D], Awaitable[None]]


@dataclass(frozen=True)
class Route(Generic[D]):
    contract: Contract[Any, Any]
    handler: Handler[Any, D, Any]
    on_failure: FailureHandler[D] | None = None

    def parse(self, data: dict[str, Any]) -> BaseModel:
        """Validate `data` against the contract's request model (raises pydantic.ValidationError)."""
        return self.contract.request.model_validate(data)


class ActionRouter(Generic[D]):
    """`router: ActionRouter[QueryDeps] = ActionRouter()`, then `@router.handle(query.SEARCH)`."""

    def __init__(self) -> None:
        self._routes: dict[str, Route[D]] = {}

    def handle(
        self, contract: Contract[Req, Rep], *, on_failure: FailureHandler[D] | None = None
    ) -> Callable[[Handler[Req, D, Rep]], Handler[Req, D, Rep]]:
        """Decorator: registers the handler of `contract`; mypy checks it against the contract's models."""

        def register(handler: Handler[Req, D, Rep]) -> Handler[Req, D, Rep]:
            self.add(contract, handler, on_failure=on_failure)
            return handler

        return register

    def add(
        self,
        contract: Contract[Req, Rep],
        handler: Handler[Req, D, Rep],
        *,
        on_failure: FailureHandler[D] | None = None,
    ) -> None:
        if contract.action_type in self._routes:
            raise ValueError(f"handler for {contract.action_type!r} already registered")
        self._routes[contract.action_type] = Route(contract, handler, on_failure)

    def include(self, other: ActionRouter[D]) -> None:
        for route in other._routes.values():
            self.add(route.contract, route.handler, on_failure=route.on_failure)

    def get(self, action_type: str) -> Route[D] | None:
        return self._routes.get(action_type)

    @property
    def action_types(self) -> list[str]:
        return sorted(self._routes)


def result_to_dict(result: BaseModel | None) -> dict[str, Any] | None:
    return None if result is None else result.model_dump(mode="json")
