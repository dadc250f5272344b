"""Agents of a tenant: every statement is scoped by tenant_id; deletes are soft."""

from __future__ import annotations

import uuid
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncEngine

from agent_management_service.models.agents import AgentCreate, AgentUpdate
from agent_management_service.models.tables import agents
from common.auth import TenantIdentity
from common.contracts.management import AgentOut, TokenBudget
from common.errors import NotFoundError, QuotaExceededError
from common.models.pagination import Page
from common.policy import check_model_allowed
from common.tier_limits import limits_for

AGENT_COLUMNS = [c for c in agents.c if c.name not in {"tenant_id", "deleted_at"}]


def _visible(tenant_id: str, agent_id: str | None = None) -> Any:
    clause = sa.and_(agents.c.tenant_id == tenant_id, agents.c.deleted_at.is_(None))
    return sa.and_(clause, agents.c.id == agent_id) if agent_id is not None else clause


async def create_agent(engine: AsyncEngine, tenant: TenantIdentity, body: AgentCreate) -> AgentOut:
    check_model_allowed(tenant.tier, body.model.provider.value)
    if body.memory.summary_model is not None:
        check_model_allowed(tenant.tier, body.memory.summary_model.provider.value)
    cap = limits_for(tenant.tier).max_agents
    async with engine.begin() as conn:
        # serialise creations of one tenant so two concurrent requests cannot both pass the cap
        await conn.execute(sa.text("SELECT pg_advisory_xact_lock(hashtext(:t))"), {"t": tenant.tenant_id})
        if cap is not None:
            count = (
                await conn.execute(sa.select(sa.func.count()).select_from(agents).where(_visible(tenant.tenant_id)))
            ).scalar_one()
            if count >= cap:
                raise QuotaExceededError(
                    f"the {tenant.tier.value} tier allows {cap} agent(s)",
                    code="agent_quota_exceeded",
                    details={"limit": cap},
                )
        row = (
            await conn.execute(
                agents.insert()
                .values(id=str(uuid.uuid4()), tenant_id=tenant.tenant_id, **body.model_dump(mode="json"))
                .returning(*AGENT_COLUMNS)
            )
        ).one()
    return AgentOut.model_validate(row._asdict())


async def get_agent(engine: AsyncEngine, tenant_id: str, agent_id: str) -> AgentOut:
    async with engine.connect() as conn:
        row = (await conn.execute(sa.select(*AGENT_COLUMNS).where(_visible(tenant_id, agent_id)))).one_or_none()
    if row is None:
        raise NotFoundError("agent not found", code="agent_not_found", details={"agent_id": agent_id})
    return AgentOut.model_validate(row._asdict())


async def agent_budgets(engine: AsyncEngine, tenant_id: str) -> dict[str, TokenBudget]:
    """Every agent of the tenant with its token budget."""
    async with engine.connect() as conn:
        rows = await conn.execute(sa.select(agents.c.id, agents.c.budget).where(_visible(tenant_id)))
    return {row.id: TokenBudget.model_validate(row.budget) for row in rows}


async def list_agents(engine: AsyncEngine, tenant_id: str, limit: int, offset: int) -> Page[AgentOut]:
    async with engine.connect() as conn:
        total = (
            await conn.execute(sa.select(sa.func.count()).select_from(agents).where(_visible(tenant_id)))
        ).scalar_one()
        rows = await conn.execute(
            sa.select(*AGENT_COLUMNS)
            .where(_visible(tenant_id))
            .order_by(agents.c.created_at.desc(), agents.c.id)
            .limit(limit)
            .offset(offset)
        )
    return Page[AgentOut](
        items=[AgentOut.model_validate(r._asdict()) for r in rows], total=total, limit=limit, offset=offset
    )


async def update_agent(engine: AsyncEngine, tenant: TenantIdentity, agent_id: str, body: AgentUpdate) -> AgentOut:
    changes = body.model_dump(mode="json", exclude_unset=True)
    if body.model is not None:
        check_model_allowed(tenant.tier, body.model.provider.value)
    if body.memory is not None and body.memory.summary_model is not None:
        check_model_allowed(tenant.tier, body.memory.summary_model.provider.value)
    async with engine.begin() as conn:
        row = (
            await conn.execute(
                agents.update()
                .where(_visible(tenant.tenant_id, agent_id))
                .values(**changes, updated_at=sa.func.now())
                .returning(*AGENT_COLUMNS)
            )
        ).one_or_none()
    if row is None:
        raise NotFoundError("agent not found", code="agent_not_found", details={"agent_id": agent_id})
    return AgentOut.model_validate(row._asdict())


async def delete_agent(engine: AsyncEngine, tenant_id: str, agent_id: str) -> None:
    async with engine.begin() as conn:
        deleted = (
            await conn.execute(
                agents.update()
                .where(_visible(tenant_id, agent_id))
                .values(deleted_at=sa.func.now(), is_active=False)
                .returning(agents.c.id)
            )
        ).scalar_one_or_none()
    if deleted is None:
        raise NotFoundError("agent not found", code="agent_not_found", details={"agent_id": agent_id})
