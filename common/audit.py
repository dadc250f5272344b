"""The audit log (migration 0012): an append-only record of every change a tenant's admin makes, written by the
REST route that made it (any service), read through the management service's API.

A route asks for `Audit` (a FastAPI dependency: the caller, the request's trace id) and calls
`await audit.record("agent.updated", "agent", agent_id, before=old, after=new)`: the entry keeps only the
fields that changed, before and after, and never a secret (tokens, keys, hashes, headers, passwords) at any
depth.
"""

from __future__ import annotations

import re
from datetime import datetime
from typing import Annotated, Any

import sqlalchemy as sa
from fastapi import Depends, Request
from pydantic import BaseModel, TypeAdapter
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.ext.asyncio import AsyncEngine

from common import tracing
from common.auth import CurrentTenant, TenantIdentity
from common.log import get_logger
from common.models.pagination import Page

log = get_logger(__name__)
metadata = sa.MetaData()
audit_log = sa.Table(
    "audit_log",
    metadata,
    sa.Column("id", sa.BigInteger, primary_key=True),
    sa.Column("tenant_id", sa.String(36), nullable=False),
    sa.Column("occurred_at", sa.DateTime(timezone=True), server_default=sa.func.now()),
    sa.Column("actor", sa.String(200), nullable=False),
    sa.Column("action", sa.String(64), nullable=False),
    sa.Column("target_type", sa.String(32), nullable=False),
    sa.Column("target_id", sa.String(200)),
    sa.Column("changes", JSONB, nullable=False),
    sa.Column("trace_id", sa.String(32)),
)
SECRET = re.compile(
    r"^(token|key|api_key|secret|password|authorization|headers|.*_(token|secret|password|hash))$", re.IGNORECASE
)
REDACTED = "[redacted]"
_JSON: TypeAdapter[dict[str, Any] | None] = TypeAdapter(dict[str, Any] | None)
TRACEPARENT = re.compile(r"^[0-9a-f]{2}-([0-9a-f]{32})-[0-9a-f]{16}-[0-9a-f]{2}$")


class AuditEntry(BaseModel):
    id: int
    occurred_at: datetime
    actor: str
    action: str
    target_type: str
    target_id: str | None
    changes: dict[str, Any]
    trace_id: str | None


def without_secrets(value: Any) -> Any:
    """`value` with every field whose name says it holds a secret replaced, at any depth."""
    if isinstance(value, dict):
        return {k: REDACTED if SECRET.search(str(k)) else without_secrets(v) for k, v in value.items()}
    if isinstance(value, list):
        return [without_secrets(v) for v in value]
    return value


def changed_fields(before: dict[str, Any] | None, after: dict[str, Any] | None) -> dict[str, Any]:
    """{field: {"before": ..., "after": ...}} for the fields that differ (all of them for a creation or a
    deletion); bookkeeping timestamps left out."""
    before, after = without_secrets(before or {}), without_secrets(after or {})
    ignored = {"created_at", "updated_at", "last_used_at"}
    return {
        key: {"before": before.get(key), "after": after.get(key)}
        for key in sorted(set(before) | set(after))
        if key not in ignored and before.get(key) != after.get(key)
    }


class AuditTrail:
    """The audit log as one request writes it."""

    def __init__(self, engine: AsyncEngine, caller: TenantIdentity, trace_id: str | None):
        self.engine = engine
        self.caller = caller
        self.trace_id = trace_id

    async def record(
        self,
        action: str,
        target_type: str,
        target_id: str | None,
        *,
        before: BaseModel | dict[str, Any] | None = None,
        after: BaseModel | dict[str, Any] | None = None,
    ) -> None:
        values = {
            "tenant_id": self.caller.tenant_id,
            "actor": self.caller.actor,
            "action": action,
            "target_type": target_type,
            "target_id": target_id,
            "changes": changed_fields(_as_dict(before), _as_dict(after)),
            "trace_id": self.trace_id,
        }
        async with self.engine.begin() as conn:
            await conn.execute(audit_log.insert().values(**values))
        log.info("audited", action=action, target_type=target_type, target_id=target_id, actor=values["actor"])


def _as_dict(value: BaseModel | dict[str, Any] | None) -> dict[str, Any] | None:
    """As JSON holds it (timestamps as ISO 8601 text)."""
    return value.model_dump(mode="json") if isinstance(value, BaseModel) else _JSON.dump_python(value, mode="json")


def request_trace_id(request: Request) -> str | None:
    """The request's trace id: its span's when tracing is on, else the caller's `traceparent`, if any."""
    if traced := tracing.current_trace_id():
        return traced
    match = TRACEPARENT.match(request.headers.get("traceparent", ""))
    return match.group(1) if match else None


def audit_trail(request: Request, caller: CurrentTenant) -> AuditTrail:
    return AuditTrail(request.app.state.deps.engine, caller, request_trace_id(request))


Audit = Annotated[AuditTrail, Depends(audit_trail)]


async def list_entries(
    engine: AsyncEngine,
    tenant_id: str,
    *,
    limit: int,
    offset: int,
    action: str | None = None,
    target_id: str | None = None,
    actor: str | None = None,
    since: datetime | None = None,
) -> Page[AuditEntry]:
    """The tenant's entries, newest first."""
    where = [audit_log.c.tenant_id == tenant_id]
    if action is not None:
        where.append(audit_log.c.action == action)
    if target_id is not None:
        where.append(audit_log.c.target_id == target_id)
    if actor is not None:
        where.append(audit_log.c.actor == actor)
    if since is not None:
        where.append(audit_log.c.occurred_at >= since)
    columns = [c for c in audit_log.c if c.name != "tenant_id"]
    async with engine.connect() as conn:
        total = (await conn.execute(sa.select(sa.func.count()).select_from(audit_log).where(*where))).scalar_one()
        rows = await conn.execute(
            sa.select(*columns)
            .where(*where)
            .order_by(audit_log.c.occurred_at.desc(), audit_log.c.id.desc())
            .limit(limit)
            .offset(offset)
        )
    return Page[AuditEntry](
        items=[AuditEntry.model_validate(r._asdict()) for r in rows], total=total, limit=limit, offset=offset
    )
