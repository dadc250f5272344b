from __future__ import annotations

import asyncio
from typing import Any

from redis.asyncio import Redis
from redis.asyncio.client import Pipeline

from common.errors import ActionTimeoutError, ValidationError
from common.log import get_logger
from common.messaging.codec import encode
from common.messaging.queue_manager import QueueManager
from common.messaging.replies import CALLBACK_QUEUE_TTL_S, build_callback
from common.models.actions import DomainAction

log = get_logger(__name__)


class CallbackSenderHandler:
    """Sends intermediate callbacks (e.g. streamed tokens) for an action that asked for them."""

    def __init__(self, redis: Redis, queues: QueueManager, origin_service: str, max_message_bytes: int):
        self.redis = redis
        self.queues = queues
        self.origin_service = origin_service
        self.max_message_bytes = max_message_bytes

    def queue_callback(
        self, pipe: Pipeline, action: DomainAction, data: dict[str, Any], callback_action_type: str | None = None
    ) -> None:
        """Queue one callback on `pipe`; callbacks queued in order arrive in order."""
        target = action.callback_queue_name
        if not target or not self.queues.is_own_queue(target):
            raise ValidationError("action has no valid callback queue", code="no_callback_queue")
        callback = build_callback(action, data, None, self.origin_service, callback_action_type)
        pipe.lpush(target, encode(callback, self.max_message_bytes))
        pipe.expire(target, CALLBACK_QUEUE_TTL_S)

    async def send_callback(
        self, action: DomainAction, data: dict[str, Any], callback_action_type: str | None = None
    ) -> None:
        async with self.redis.pipeline(transaction=False) as pipe:
            self.queue_callback(pipe, action, data, callback_action_type)
            await pipe.execute()


class CallbackReceiverHandler:
    """Lets in-process code await the callback of a task: register with `expect`, then `wait_for_callback`.

    Register it on the callback consumer's router as the handler of the callback action type.
    """

    def __init__(self) -> None:
        self._waiting: dict[str, asyncio.Future[DomainAction]] = {}

    def expect(self, task_id: str) -> None:
        """Register before sending the action, so a fast callback is never missed."""
        if task_id not in self._waiting:
            self._waiting[task_id] = asyncio.get_running_loop().create_future()

    async def __call__(self, action: DomainAction, payload: Any, deps: Any) -> None:
        await self.handle_callback(action)

    async def handle_callback(self, action: DomainAction) -> None:
        waiter = self._waiting.get(action.task_id or action.correlation_id or "")
        if waiter is None or waiter.done():
            log.warning("callback_unexpected", task_id=action.task_id, correlation_id=action.correlation_id)
            return
        waiter.set_result(action)

    async def wait_for_callback(self, task_id: str, timeout: float = 30.0) -> DomainAction:
        """The callback action; raises ActionTimeoutError. The registration is removed either way."""
        self.expect(task_id)
        try:
            return await asyncio.wait_for(asyncio.shield(self._waiting[task_id]), timeout)
        except TimeoutError:
            message = f"no callback for task {task_id} within {timeout:g} s"
            raise ActionTimeoutError(message, code="callback_timeout") from None
        finally:
            self._waiting.pop(task_id, None)

    @property
    def pending(self) -> int:
        return len(self._waiting)
