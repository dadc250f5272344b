from common.clients.base_redis_client import BaseRedisClient
from common.contracts import management
from common.contracts.management import AgentConfig, AgentOut, GetConfigRequest, ListAgentsRequest
from common.models.pagination import Page


class ManagementClient(BaseRedisClient):
    async def agent_config(self, tenant_id: str, tier: str, agent_id: str) -> AgentConfig:
        """Raises NotFoundError when the tenant has no such agent."""
        request = GetConfigRequest(agent_id=agent_id)
        return await self.call(management.GET_AGENT_CONFIG, request, tenant_id=tenant_id, tenant_tier=tier)

    async def list_agents(self, tenant_id: str, tier: str, limit: int = 100) -> Page[AgentOut]:
        request = ListAgentsRequest(limit=limit)
        return await self.call(management.LIST_AGENTS, request, tenant_id=tenant_id, tenant_tier=tier)
