from typing import Any

from common.clients.base_redis_client import BaseRedisClient
from common.models.actions import DomainAction
from common.models.chat import Usage


class ConversationClient(BaseRedisClient):
    async def history(
        self, parent: DomainAction, conversation_id: str, max_messages: int, max_tokens: int
    ) -> list[dict[str, Any]]:
        data = {"conversation_id": conversation_id, "max_messages": max_messages, "max_tokens": max_tokens}
        reply = await self.call(self.follow_up(parent, "conversation.history.get", data), timeout=10)
        return reply["messages"]

    async def save_message(
        self,
        parent: DomainAction,
        conversation_id: str,
        *,
        message_id: str,
        role: str,
        content: str,
        usage: Usage | None = None,
        sources: list[dict[str, Any]] | None = None,
        tool_calls: list[dict[str, Any]] | None = None,
    ) -> None:
        """Stored when this returns (pseudo-sync, so the next turn's history sees it); idempotent by `message_id`,
        so a redelivered turn saves nothing twice."""
        data = {
            "conversation_id": conversation_id,
            "message_id": message_id,
            "role": role,
            "content": content,
            "usage": usage.model_dump() if usage else None,
            "sources": sources or [],
            "tool_calls": tool_calls or [],
        }
        await self.call(self.follow_up(parent, "conversation.message.save", data), timeout=10)
