"""The agent config a chat turn runs with: the agent as stored, with its tier's limits (so a tenant whose tier
changed gets its new limits at once). Its only copies live with the execution service's client, checked by the
agent's change stamp (common.stamps), which every change replaces."""

from __future__ import annotations

from redis.asyncio import Redis
from sqlalchemy.ext.asyncio import AsyncEngine

from agent_management_service.services.agents import agent_budgets, get_agent
from agent_management_service.services.mcp_servers import McpServers
from agent_management_service.services.tenants import get_token_budget
from common.contracts.management import AgentConfig, BudgetLimit, BudgetPeriod, TokenBudget
from common.messaging.queue_manager import QueueManager
from common.models.tiers import Tier
from common.stamps import agent_stamp_key, restamp
from common.tier_limits import limits_for


async def load_agent_config(
    engine: AsyncEngine, mcp: McpServers, tenant_id: str, tier: Tier, agent_id: str
) -> AgentConfig:
    agent = await get_agent(engine, tenant_id, agent_id)
    limits = limits_for(tier)
    tenant_budget = await get_token_budget(engine, tenant_id)
    budgets = [
        BudgetLimit(scope="tenant", period=period, limit=limit)
        for period, limit in tenant_token_limits(tier, tenant_budget).items()
        if limit is not None
    ]
    budgets += [
        BudgetLimit(scope="agent", period=period, limit=limit)
        for period, limit in token_limits(agent.budget).items()
        if limit is not None
    ]
    return AgentConfig(
        **agent.model_dump(),
        tenant_id=tenant_id,
        timeout_s=limits.timeout_s,
        max_history_messages=min(agent.memory.max_messages, limits.max_history_messages),
        budgets=budgets,
        mcp=await mcp.bindings(tenant_id, agent.mcp_tools),
    )


def token_limits(budget: TokenBudget) -> dict[BudgetPeriod, int | None]:
    return {"day": budget.tokens_per_day, "month": budget.tokens_per_month}


def tenant_token_limits(tier: Tier, own: TokenBudget) -> dict[BudgetPeriod, int | None]:
    """The tenant's budgets: its tier's, lowered by the tenant's own where it set one."""
    limits = limits_for(tier)
    tier_limits: dict[BudgetPeriod, int | None] = {"day": limits.tokens_per_day, "month": limits.tokens_per_month}
    return {
        period: min((v for v in (tier_limits[period], mine) if v is not None), default=None)
        for period, mine in token_limits(own).items()
    }


async def agent_changed(redis: Redis, queues: QueueManager, tenant_id: str, agent_id: str) -> None:
    """The agent changed: replace its stamp, so no copy kept elsewhere stays current."""
    await restamp(redis, agent_stamp_key(queues, tenant_id, agent_id))


async def tenant_agents_changed(redis: Redis, queues: QueueManager, engine: AsyncEngine, tenant_id: str) -> None:
    """Something every agent's config carries changed (the tenant's budget): every agent is restamped."""
    for agent_id in await agent_budgets(engine, tenant_id):
        await agent_changed(redis, queues, tenant_id, agent_id)
