from agent_execution_service.models.agents import TurnAgent
from common.clients.base_redis_client import BaseRedisClient
from common.models.actions import DomainAction


class ManagementClient(BaseRedisClient):
    async def agent_config(self, parent: DomainAction, agent_id: str) -> TurnAgent:
        action = self.follow_up(parent, "management.agent.get_config", {"agent_id": agent_id})
        return TurnAgent.model_validate(await self.call(action, timeout=10))
