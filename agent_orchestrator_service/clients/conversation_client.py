from common.clients.base_redis_client import BaseRedisClient
from common.errors import NotFoundError


class ConversationClient(BaseRedisClient):
    async def close_session(self, tenant_id: str, tier: str, session_id: str) -> None:
        action = self.new_action(
            "conversation.session.close",
            tenant_id=tenant_id,
            tenant_tier=tier,
            session_id=session_id,
            data={"session_id": session_id},
        )
        await self.send_action_async(action)

    async def owner(self, tenant_id: str, tier: str, conversation_id: str) -> tuple[str | None, str | None] | None:
        """(agent id, end user id) of a stored conversation; None when there is none."""
        action = self.new_action(
            "conversation.conversation.get",
            tenant_id=tenant_id,
            tenant_tier=tier,
            data={"conversation_id": conversation_id},
        )
        try:
            found = await self.call(action)
        except NotFoundError:
            return None
        return found.get("agent_id"), found.get("end_user_id")
