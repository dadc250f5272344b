from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Query

from common.audit import AuditEntry, list_entries
from common.auth import CurrentTenant
from common.models.pagination import Page
from common.service import AppDeps as Deps

router = APIRouter(prefix="/api/v1/audit", tags=["audit"])


@router.get("")
async def list_(
    tenant: CurrentTenant,
    deps: Deps,
    action: Annotated[str | None, Query(pattern=r"^[a-z_]{1,32}\.[a-z_]{1,31}$")] = None,
    target_id: Annotated[str | None, Query(pattern=r"^[A-Za-z0-9_.:-]{1,200}$")] = None,
    actor: Annotated[str | None, Query(pattern=r"^[a-z_]{1,16}:[^\x00-\x1f\x7f]{1,183}$")] = None,
    since: datetime | None = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
    offset: Annotated[int, Query(ge=0, le=1_000_000)] = 0,
) -> Page[AuditEntry]:
    """Read the audit log.

    Every change an admin made (agents, collections, documents deleted, conversations deleted, API keys,
    end-user tokens, allowed origins, budgets), newest first: who (`api_key:<id>`, `jwt:<subject>`), when,
    what changed (before and after of the changed fields, never a secret) and the request's trace id. Filter
    by action (`agent.updated`), object id, actor or time. Append-only: nothing can change or delete an entry."""
    return await list_entries(
        deps.engine,
        tenant.tenant_id,
        limit=limit,
        offset=offset,
        action=action,
        target_id=target_id,
        actor=actor,
        since=since,
    )
