"""The management service, as a turn needs it: agent configs, kept between turns while unchanged.

A kept config is used while its change stamp (common.stamps) is the one the turn came with (the orchestrator
reads the stamps as it starts the turn, so checking costs no round trip here); otherwise, and when the turn
came without stamps, the management service is asked and its answer kept.
"""

from cachetools import LRUCache
from redis.asyncio import Redis

from common.clients.base_redis_client import BaseRedisClient
from common.contracts import management
from common.contracts.management import AgentConfig, GetConfigRequest
from common.models.actions import DomainAction
from common.settings import CommonSettings

KEPT_AGENTS = 10_000


class ManagementClient(BaseRedisClient):
    def __init__(self, redis: Redis, settings: CommonSettings, origin_service: str):
        super().__init__(redis, settings, origin_service)
        self._kept: LRUCache[tuple[str, str, str], AgentConfig] = LRUCache(maxsize=KEPT_AGENTS)

    def kept(self, parent: DomainAction, agent_id: str, stamp: str | None) -> AgentConfig | None:
        """The kept config of the agent when it is still current (its stamp is `stamp`)."""
        config = self._kept.get(_key(parent, agent_id))
        return config if config is not None and stamp is not None and config.stamp == stamp else None

    def last_known(self, parent: DomainAction, agent_id: str) -> AgentConfig | None:
        """The config this replica last read for the agent, current or not (a guess of its limits)."""
        return self._kept.get(_key(parent, agent_id))

    async def agent_config(self, parent: DomainAction, agent_id: str, stamp: str | None = None) -> AgentConfig:
        if (config := self.kept(parent, agent_id, stamp)) is not None:
            return config
        config = await self.call(management.GET_AGENT_CONFIG, GetConfigRequest(agent_id=agent_id), parent=parent)
        self._kept[_key(parent, agent_id)] = config
        return config


def _key(parent: DomainAction, agent_id: str) -> tuple[str, str, str]:
    """By tenant, tier (a config carries its tier's limits) and agent."""
    return parent.tenant_id, parent.tenant_tier.value, agent_id
