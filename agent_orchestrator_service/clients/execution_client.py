from datetime import timedelta

from common.clients.base_redis_client import BaseRedisClient
from common.contracts import execution
from common.contracts.execution import CancelRequest, ChatRunRequest
from common.models.actions import utc_now
from common.stamps import TurnStamps


class ExecutionClient(BaseRedisClient):
    async def run_turn(
        self,
        *,
        tenant_id: str,
        tier: str,
        session_id: str,
        agent_id: str,
        conversation_id: str,
        task_id: str,
        message: str,
        client_message_id: str | None,
        user_id: str | None,
        callback_queue: str,
        timeout_s: float,
        stamps: TurnStamps | None = None,
    ) -> None:
        """`execution.chat.run`: events come back as `orchestrator.chat.event` callbacks on `callback_queue`; the
        turn's deadline is `timeout_s` from now."""
        request = ChatRunRequest(
            session_id=session_id,
            conversation_id=conversation_id,
            message=message,
            client_message_id=client_message_id,
            stamps=stamps,
        )
        await self.stream(
            execution.RUN_CHAT,
            request,
            callback_queue=callback_queue,
            tenant_id=tenant_id,
            tenant_tier=tier,
            session_id=session_id,
            task_id=task_id,
            agent_id=agent_id,
            user_id=user_id,
            deadline=utc_now() + timedelta(seconds=timeout_s),
        )

    async def cancel(self, *, tenant_id: str, tier: str, session_id: str, task_id: str) -> None:
        request = CancelRequest(task_id=task_id)
        await self.send(execution.CANCEL_TASK, request, tenant_id=tenant_id, tenant_tier=tier, session_id=session_id)
