"""The agent config a chat turn runs with: the agent as stored, with its tier's limits (so a tenant whose tier
changed gets its new limits at once). Its only copies live with the execution service's client, checked by the
agent's change stamp (common.stamps), which every change replaces."""

from __future__ import annotations

from redis.asyncio import Redis
from sqlalchemy.ext.asyncio import AsyncEngine

from agent_management_service.services.agents import get_agent
from common.contracts.management import AgentConfig
from common.messaging.queue_manager import QueueManager
from common.models.tiers import Tier
from common.stamps import agent_stamp_key, restamp
from common.tier_limits import limits_for


async def load_agent_config(engine: AsyncEngine, tenant_id: str, tier: Tier, agent_id: str) -> AgentConfig:
    agent = await get_agent(engine, tenant_id, agent_id)
    limits = limits_for(tier)
    return AgentConfig(
        **agent.model_dump(),
        tenant_id=tenant_id,
        timeout_s=limits.timeout_s,
        max_history_messages=min(agent.memory.max_messages, limits.max_history_messages),
    )


async def agent_changed(redis: Redis, queues: QueueManager, tenant_id: str, agent_id: str) -> None:
    """The agent changed: replace its stamp, so no copy kept elsewhere stays current."""
    await restamp(redis, agent_stamp_key(queues, tenant_id, agent_id))
