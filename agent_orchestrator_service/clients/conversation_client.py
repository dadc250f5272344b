from common.clients.base_redis_client import BaseRedisClient


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
