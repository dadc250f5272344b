from common.clients.base_redis_client import BaseRedisClient
from common.contracts import management
from common.contracts.management import AgentConfig, GetConfigRequest
from common.models.actions import DomainAction


class ManagementClient(BaseRedisClient):
    async def agent_config(self, parent: DomainAction, agent_id: str) -> AgentConfig:
        return await self.call(management.GET_AGENT_CONFIG, GetConfigRequest(agent_id=agent_id), parent=parent)
