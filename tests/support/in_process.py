"""The fast path for handler logic: a client's calls served by handlers in this process.

`serve_in_process(client, routers)` makes `client` hand each action to the handler its contract is registered
with, as a worker would — the request validated against the contract, the reply serialised to JSON and parsed
back, a handler's error raised as the NoobleError a caller gets over Redis — without Redis or a worker. A
handler's logic (or a caller's) is then tested in milliseconds; the real-Redis suites keep the messaging
guarantees (delivery, retries, dead letters, deadlines)."""

from __future__ import annotations

import json
from typing import Any

from common.clients.base_redis_client import BaseRedisClient
from common.errors import NoobleError, ValidationError, as_nooble_error
from common.models.actions import DomainAction
from common.workers.router import ActionRouter, result_to_dict


class InProcess:
    def __init__(self, routers: list[tuple[ActionRouter[Any], Any]]):
        self.routes = {t: (router, deps) for router, deps in routers for t in router.action_types}
        self.handled: list[DomainAction] = []

    async def call_action(self, action: DomainAction, timeout: float | None = None) -> dict[str, Any]:
        action = DomainAction.model_validate_json(action.model_dump_json())  # as it travels
        self.handled.append(action)
        if action.action_type not in self.routes:
            raise ValidationError(f"unknown action type {action.action_type!r}", code="unknown_action")
        router, deps = self.routes[action.action_type]
        route = router.get(action.action_type)
        assert route is not None
        try:
            result = result_to_dict(await route.handler(action, route.parse(action.data), deps))
        except NoobleError:
            raise
        except Exception as exc:  # mapped as the worker maps it
            raise as_nooble_error(exc) from exc
        return dict(json.loads(json.dumps(result or {})))

    async def send_action_async(self, action: DomainAction) -> str:
        await self.call_action(action)
        return "0-0"


def serve_in_process(client: BaseRedisClient, transport: InProcess) -> None:
    """Route `client`'s calls and sends to `transport` (the instance's methods, nothing global)."""
    setattr(client, "call_action", transport.call_action)  # noqa: B010  (an instance attribute, not the class's)
    setattr(client, "send_action_async", transport.send_action_async)  # noqa: B010
