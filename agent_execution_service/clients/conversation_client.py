from typing import Any

from common.clients.base_redis_client import BaseRedisClient
from common.models.actions import DomainAction
from common.models.conversations import TurnMessage


class ConversationClient(BaseRedisClient):
    async def history(
        self, parent: DomainAction, conversation_id: str, max_messages: int, max_tokens: int
    ) -> list[dict[str, Any]]:
        data = {"conversation_id": conversation_id, "max_messages": max_messages, "max_tokens": max_tokens}
        reply = await self.call(self.follow_up(parent, "conversation.history.get", data), timeout=10)
        return reply["messages"]

    async def save_messages(self, parent: DomainAction, conversation_id: str, messages: list[TurnMessage]) -> None:
        """A turn's messages, stored in order when this returns (pseudo-sync, so the next turn's history sees
        them) in one round trip; idempotent by `message_id`, so a redelivered turn saves nothing twice."""
        data = {
            "conversation_id": conversation_id,
            "messages": [message.model_dump(mode="json", exclude_none=True) for message in messages],
        }
        await self.call(self.follow_up(parent, "conversation.messages.save", data), timeout=10)
