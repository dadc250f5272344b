from __future__ import annotations

from pydantic import BaseModel
from redis.asyncio import Redis
from redis.asyncio.client import Pipeline

from common.errors import ValidationError
from common.messaging.codec import encode
from common.messaging.queue_manager import QueueManager
from common.messaging.replies import CALLBACK_QUEUE_TTL_S, build_callback
from common.models.actions import DomainAction


class CallbackSenderHandler:
    """Sends the callbacks of a streamed action (e.g. a chat turn's events) to the list it named."""

    def __init__(self, redis: Redis, queues: QueueManager, origin_service: str, max_message_bytes: int):
        self.redis = redis
        self.queues = queues
        self.origin_service = origin_service
        self.max_message_bytes = max_message_bytes

    def queue_callback(self, pipe: Pipeline, action: DomainAction, payload: BaseModel) -> None:
        """Queue one callback on `pipe`; callbacks queued in order arrive in order."""
        target = action.callback_queue_name
        if not target or not self.queues.is_own_queue(target):
            raise ValidationError("action has no valid callback queue", code="no_callback_queue")
        data = payload.model_dump(mode="json", exclude_none=True)
        callback = build_callback(action, data, None, self.origin_service)
        pipe.lpush(target, encode(callback, self.max_message_bytes))
        pipe.expire(target, CALLBACK_QUEUE_TTL_S)

    async def send_callback(self, action: DomainAction, payload: BaseModel) -> None:
        async with self.redis.pipeline(transaction=False) as pipe:
            self.queue_callback(pipe, action, payload)
            await pipe.execute()
