from common.clients.base_redis_client import BaseRedisClient
from common.contracts import conversation
from common.contracts.conversation import CloseSessionRequest, ConversationGetRequest
from common.errors import NotFoundError


class ConversationClient(BaseRedisClient):
    async def close_session(self, tenant_id: str, tier: str, session_id: str) -> None:
        request = CloseSessionRequest(session_id=session_id)
        await self.send(
            conversation.CLOSE_SESSION, request, tenant_id=tenant_id, tenant_tier=tier, session_id=session_id
        )

    async def owner(self, tenant_id: str, tier: str, conversation_id: str) -> tuple[str | None, str | None] | None:
        """(agent id, end user id) of a stored conversation; None when there is none."""
        request = ConversationGetRequest(conversation_id=conversation_id)
        try:
            found = await self.call(conversation.GET_CONVERSATION, request, tenant_id=tenant_id, tenant_tier=tier)
        except NotFoundError:
            return None
        return found.agent_id, found.end_user_id
