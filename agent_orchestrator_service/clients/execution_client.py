from datetime import timedelta
from typing import Any

from common.clients.base_redis_client import BaseRedisClient
from common.models.actions import DomainAction, utc_now
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
        """`execution.chat.run`: events come back as `orchestrator.chat.event` callbacks on `callback_queue`."""
        data: dict[str, Any] = {
            "session_id": session_id,
            "conversation_id": conversation_id,
            "message": message,
            "client_message_id": client_message_id,
        }
        if stamps is not None:
            data["stamps"] = stamps.model_dump()
        action = self.new_action(
            "execution.chat.run",
            tenant_id=tenant_id,
            tenant_tier=tier,
            session_id=session_id,
            task_id=task_id,
            agent_id=agent_id,
            user_id=user_id,
            data=data,
            deadline=utc_now() + timedelta(seconds=timeout_s),
        )
        await self.send_action_async_with_callback(action, "orchestrator.chat.event", callback_queue)

    async def cancel(self, *, tenant_id: str, tier: str, session_id: str, task_id: str) -> None:
        action: DomainAction = self.new_action(
            "execution.task.cancel",
            tenant_id=tenant_id,
            tenant_tier=tier,
            session_id=session_id,
            data={"task_id": task_id},
        )
        await self.send_action_async(action)
