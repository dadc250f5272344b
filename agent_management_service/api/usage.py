"""The usage ledger and token budgets, as a tenant's admin reads them."""

from datetime import UTC, date, datetime, timedelta
from typing import Annotated

from fastapi import APIRouter, Depends, Query
from fastapi.responses import StreamingResponse
from pydantic import BaseModel

from agent_management_service.deps import Deps
from agent_management_service.services.agent_config import tenant_agents_changed, tenant_token_limits, token_limits
from agent_management_service.services.agents import agent_budgets
from agent_management_service.services.ledger import UsageFilters, UsageReport, usage_csv, usage_report
from agent_management_service.services.tenants import get_token_budget, set_token_budget
from common.audit import Audit
from common.auth import END_USER_ID_PATTERN, CurrentTenant
from common.budgets import BudgetStatus
from common.contracts.management import TokenBudget, UsageKind
from common.errors import ValidationError

router = APIRouter(prefix="/api/v1", tags=["usage and budgets"])
MAX_PERIOD_DAYS = 366
ID = r"^[A-Za-z0-9_.:-]{1,64}$"


def usage_filters(
    since: Annotated[date | None, Query(description="first day (UTC); default 29 days before `until`")] = None,
    until: Annotated[date | None, Query(description="last day (UTC), included; default today")] = None,
    agent_id: Annotated[str | None, Query(pattern=ID)] = None,
    model: Annotated[str | None, Query(pattern=r"^[A-Za-z0-9_.:/@+-]{1,100}$")] = None,
    end_user_id: Annotated[str | None, Query(pattern=END_USER_ID_PATTERN)] = None,
    kind: UsageKind | None = None,
) -> UsageFilters:
    """The query parameters both usage routes take: a period of at most MAX_PERIOD_DAYS and the filters."""
    until = until or datetime.now(UTC).date()
    since = since or until - timedelta(days=29)
    if since > until:
        raise ValidationError("`since` is after `until`", code="invalid_period")
    if (until - since).days >= MAX_PERIOD_DAYS:
        raise ValidationError(f"a period is at most {MAX_PERIOD_DAYS} days", code="invalid_period")
    return UsageFilters(since=since, until=until, agent_id=agent_id, model=model, end_user_id=end_user_id, kind=kind)


Filters = Annotated[UsageFilters, Depends(usage_filters)]


@router.get("/usage")
async def usage(tenant: CurrentTenant, deps: Deps, filters: Filters) -> UsageReport:
    """Token usage from the ledger.

    Every model call (chat turns, generate) and embedding request of the tenant, summed per day (UTC), per
    model, per agent and per kind, over a period of at most 366 days; filter by agent, model name, end user or
    kind. The ledger is written a moment after each call ends."""
    return await usage_report(deps.engine, tenant.tenant_id, filters)


@router.get("/usage/export.csv", response_class=StreamingResponse)
async def usage_export(tenant: CurrentTenant, deps: Deps, filters: Filters) -> StreamingResponse:
    """The ledger's entries as CSV.

    One row per entry (a chat turn's model calls, a generate call, an embedding request), oldest first, with
    the same filters as `GET /usage`."""
    name = f"usage-{filters.since}-{filters.until}.csv"
    return StreamingResponse(
        usage_csv(deps.engine, tenant.tenant_id, filters),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="{name}"'},
    )


class TenantBudgetOut(BaseModel):
    own: TokenBudget  # what the tenant set (None: its tier's)
    tokens_per_day: int | None  # in force: the tier's, lowered by the tenant's own
    tokens_per_month: int | None


@router.get("/budgets")
async def budgets(tenant: CurrentTenant, deps: Deps) -> list[BudgetStatus]:
    """What is left of the token budgets.

    The tenant's (its tier's, or lower if it set its own) and each agent's, per UTC day and month: the limit
    (null: counted, never refused), tokens spent, tokens held by turns running now, what is left and when it
    resets. A turn that would start over a budget is refused with `quota_exceeded`."""
    own = await get_token_budget(deps.engine, tenant.tenant_id)
    agents = {agent_id: token_limits(b) for agent_id, b in (await agent_budgets(deps.engine, tenant.tenant_id)).items()}
    return await deps.budgets.status(tenant.tenant_id, tenant_token_limits(tenant.tier, own), agents)


@router.put("/tenants/me/budget")
async def set_budget(body: TokenBudget, tenant: CurrentTenant, deps: Deps, audit: Audit) -> TenantBudgetOut:
    """Set the tenant's own token budget.

    Tokens per UTC day and month for all its agents together; it can lower the tier's budget, not raise it.
    Null: the tier's. Effective for the next turn."""
    before = await get_token_budget(deps.engine, tenant.tenant_id)
    own = await set_token_budget(deps.engine, tenant.tenant_id, body)
    await tenant_agents_changed(deps.redis, deps.queues, deps.engine, tenant.tenant_id)
    await audit.record("tenant.budget_set", "tenant", tenant.tenant_id, before=before, after=own)
    limits = tenant_token_limits(tenant.tier, own)
    return TenantBudgetOut(own=own, tokens_per_day=limits["day"], tokens_per_month=limits["month"])
