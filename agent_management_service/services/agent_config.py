"""The agent config the execution service reads every turn: cached in Redis per tier (it carries the tier's
limits, so a tenant whose tier changed gets its new limits at once), dropped on change."""

from __future__ import annotations

from redis.asyncio import Redis
from sqlalchemy.ext.asyncio import AsyncEngine

from agent_management_service.services.agents import get_agent
from common.contracts.management import AgentConfig
from common.messaging.queue_manager import QueueManager
from common.models.tiers import Tier
from common.stamps import agent_stamp_key, restamp
from common.tier_limits import limits_for

CONFIG_CACHE_TTL_S = 300


def config_cache_key(queues: QueueManager, tenant_id: str, tier: Tier, agent_id: str) -> str:
    return queues.cache_key("management", "agent_config", tenant_id, tier.value, agent_id)


async def load_agent_config(
    engine: AsyncEngine, redis: Redis, queues: QueueManager, tenant_id: str, tier: Tier, agent_id: str
) -> AgentConfig:
    key = config_cache_key(queues, tenant_id, tier, agent_id)
    if cached := await redis.get(key):
        return AgentConfig.model_validate_json(cached)
    agent = await get_agent(engine, tenant_id, agent_id)
    limits = limits_for(tier)
    config = AgentConfig(
        **agent.model_dump(),
        tenant_id=tenant_id,
        timeout_s=limits.timeout_s,
        max_history_messages=min(agent.memory.max_messages, limits.max_history_messages),
    )
    await redis.set(key, config.model_dump_json(), ex=CONFIG_CACHE_TTL_S)
    return config


async def invalidate_agent_config(redis: Redis, queues: QueueManager, tenant_id: str, agent_id: str) -> None:
    """The agent changed: drop the cached config and replace its stamp, so no copy kept elsewhere (the execution
    service's, common.stamps) stays current."""
    await redis.delete(*(config_cache_key(queues, tenant_id, tier, agent_id) for tier in Tier))
    await restamp(redis, agent_stamp_key(queues, tenant_id, agent_id))
