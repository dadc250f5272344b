from typing import Any

from common.clients.base_redis_client import BaseRedisClient


class ManagementClient(BaseRedisClient):
    async def agent_config(self, tenant_id: str, tier: str, agent_id: str) -> dict[str, Any]:
        """Raises NotFoundError when the tenant has no such agent."""
        action = self.new_action(
            "management.agent.get_config", tenant_id=tenant_id, tenant_tier=tier, data={"agent_id": agent_id}
        )
        return await self.call(action, timeout=10)

    async def list_agents(self, tenant_id: str, tier: str, limit: int = 100) -> dict[str, Any]:
        action = self.new_action("management.agent.list", tenant_id=tenant_id, tenant_tier=tier, data={"limit": limit})
        return await self.call(action, timeout=10)
