"""Queueing replies and callbacks: LPUSH and EXPIRE always travel together, in one pipeline."""

from __future__ import annotations

from typing import Any, Protocol

from common.messaging.codec import encode
from common.messaging.queue_manager import QueueManager
from common.models.actions import DomainAction, DomainActionResponse, ErrorDetail


class ListWriter(Protocol):
    """A pipeline or a command buffer: anything that can queue LPUSH and EXPIRE."""

    def lpush(self, key: str, value: str) -> Any: ...
    def expire(self, key: str, seconds: int) -> Any: ...


CALLBACK_QUEUE_TTL_S = 3600  # outlives any turn; lists of dead replicas are adopted, idle ones expire


def build_callback(
    action: DomainAction,
    data: dict[str, Any] | None,
    error: ErrorDetail | None,
    origin_service: str,
    callback_action_type: str | None = None,
) -> DomainAction:
    """The DomainAction a worker sends back for `action` (errors travel in `data["error"]`)."""
    payload = dict(data or {})
    if error is not None:
        payload["error"] = error.model_dump(mode="json", exclude_none=True)
    return DomainAction(
        action_type=callback_action_type or action.callback_action_type or "",
        tenant_id=action.tenant_id,
        tenant_tier=action.tenant_tier,
        session_id=action.session_id,
        task_id=action.task_id,
        user_id=action.user_id,
        agent_id=action.agent_id,
        origin_service=origin_service,
        correlation_id=action.correlation_id or action.action_id,
        trace_id=action.trace_id,
        data=payload,
        metadata={"status": "failed" if error else "completed"},
    )


def queue_reply(
    pipe: ListWriter,
    queues: QueueManager,
    action: DomainAction,
    data: dict[str, Any] | None,
    error: ErrorDetail | None,
    *,
    origin_service: str,
    reply_ttl_s: int,
    max_bytes: int,
) -> bool:
    """Queue the reply (pseudo-sync) or the failure callback of `action`. False when it wants none: a streamed
    action (one with a callback type) whose handler succeeded has sent its callbacks itself."""
    target = action.callback_queue_name
    if not target or not queues.is_own_queue(target):
        return False
    if action.callback_action_type:
        if error is None and data is None:
            return False
        message: DomainAction | DomainActionResponse = build_callback(action, data, error, origin_service)
        ttl = CALLBACK_QUEUE_TTL_S
    elif error is not None:
        message = DomainActionResponse.failed(
            action.action_id, action.correlation_id or action.action_id, action.trace_id, error
        )
        ttl = reply_ttl_s
    else:
        message = DomainActionResponse.ok(action, data)
        ttl = reply_ttl_s
    pipe.lpush(target, encode(message, max_bytes))
    pipe.expire(target, ttl)
    return True


def queue_salvaged_error(
    pipe: ListWriter, queues: QueueManager, envelope: dict[str, str], error: ErrorDetail, *, reply_ttl_s: int
) -> bool:
    """Tell the sender of an unparseable message what was wrong, when it said where to reply."""
    target = envelope.get("callback_queue_name")
    if not target or not queues.is_own_queue(target) or envelope.get("callback_action_type"):
        return False  # a callback consumer only accepts valid DomainActions; dead letter suffices
    action_id = envelope.get("action_id", "unknown")
    response = DomainActionResponse.failed(
        action_id, envelope.get("correlation_id", action_id), envelope.get("trace_id", ""), error
    )
    pipe.lpush(target, response.model_dump_json(exclude_none=True))
    pipe.expire(target, reply_ttl_s)
    return True
