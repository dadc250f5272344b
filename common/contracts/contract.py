"""An action's contract: its type, its request and reply models and how it travels, declared once.

The caller's client and the callee's handler both name the same `Contract` object, so a request or reply
model that changes shape fails type checking on both sides:

    SEARCH = call("query.search", SearchRequest, SearchResult, timeout_s=20)

    @router.handle(query.SEARCH)                       # the handler must take a SearchRequest, return a SearchResult
    async def search(action, req: SearchRequest, deps: QueryDeps) -> SearchResult: ...

    hits = await client.call(query.SEARCH, SearchRequest(...), parent=action)  # -> SearchResult
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import Any, Generic, TypeVar, cast

from pydantic import BaseModel

Req = TypeVar("Req", bound=BaseModel)
Rep = TypeVar("Rep", bound=BaseModel | None)


class Pattern(StrEnum):
    CALL = "call"  # pseudo-sync: the reply comes back to the caller's reply list (DESIGN.md §4)
    SEND = "send"  # fire and forget
    STREAM = "stream"  # the handler streams callbacks of `callback` to the caller's list; a failure is called back
    CALLBACK = "callback"  # travels on a callback list, consumed by a CallbackConsumer


@dataclass(frozen=True)
class Contract(Generic[Req, Rep]):
    action_type: str
    request: type[Req]
    reply: type[Rep] | None  # None: the action has no reply (send, stream, callback)
    pattern: Pattern
    timeout_s: float = 10.0  # a call's default wait for its reply
    callback: Contract[Any, None] | None = None  # a stream's callbacks

    @property
    def owner(self) -> str:
        """The domain that handles it: `query` for `query.search`."""
        return self.action_type.split(".", 1)[0]

    def parse_reply(self, data: dict[str, Any] | None) -> Rep:
        if self.reply is None:
            raise TypeError(f"{self.action_type} has no reply")
        model = cast(type[BaseModel], self.reply)  # a declared reply is always a model (Rep is None otherwise)
        return cast(Rep, model.model_validate(data or {}))


def call(action_type: str, request: type[Req], reply: type[Rep], *, timeout_s: float = 10.0) -> Contract[Req, Rep]:
    return Contract(action_type, request, reply, Pattern.CALL, timeout_s)


def send(action_type: str, request: type[Req]) -> Contract[Req, None]:
    return Contract(action_type, request, None, Pattern.SEND)


def stream(action_type: str, request: type[Req], callback: Contract[Any, None]) -> Contract[Req, None]:
    return Contract(action_type, request, None, Pattern.STREAM, callback=callback)


def callback(action_type: str, payload: type[Req]) -> Contract[Req, None]:
    return Contract(action_type, payload, None, Pattern.CALLBACK)
