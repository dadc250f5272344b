"""The usage ledger: what every model and embedding call of a tenant used, in PostgreSQL.

Records come as `management.usage.record` actions (sent by the services that call the models as the call
ends), so the turn never waits for the database. Records handled at the same time are written together: one
transaction per flush, one statement per tenant (row-level security checks each row against its tenant), and
the day's rollup is updated by the same statement from the rows it actually inserted. An action is
acknowledged only after its flush committed, and a record delivered twice (a worker died before
acknowledging) is stored once: the (tenant, event id) key refuses the second and the rollup adds nothing.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import AsyncIterator, Sequence
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

import sqlalchemy as sa
from pydantic import BaseModel
from sqlalchemy.ext.asyncio import AsyncEngine

from agent_management_service.models.tables import usage_daily, usage_events
from common import metrics
from common.contracts.management import UsageKind, UsageRecord
from common.messaging.batcher import Batcher
from common.tenancy import tenant_scope

_RECORD = sa.text(
    """
    WITH new_rows AS (
        INSERT INTO usage_events (tenant_id, event_id, occurred_at, kind, provider, model, agent_id, end_user_id,
                                  conversation_id, task_id, prompt_tokens, completion_tokens, calls, latency_ms,
                                  outcome)
        SELECT :tenant_id, r.event_id, r.occurred_at, r.kind, r.provider, r.model, r.agent_id, r.end_user_id,
               r.conversation_id, r.task_id, r.prompt_tokens, r.completion_tokens, r.calls, r.latency_ms, r.outcome
        FROM jsonb_to_recordset(CAST(:rows AS jsonb)) AS r(
            event_id text, occurred_at timestamptz, kind text, provider text, model text, agent_id text,
            end_user_id text, conversation_id text, task_id text, prompt_tokens bigint, completion_tokens bigint,
            calls integer, latency_ms double precision, outcome text)
        ON CONFLICT (tenant_id, event_id) DO NOTHING
        RETURNING *
    )
    INSERT INTO usage_daily AS d (tenant_id, day, kind, provider, model, agent_id, end_user_id, events, calls,
                                  prompt_tokens, completion_tokens, latency_ms)
    SELECT tenant_id, (occurred_at AT TIME ZONE 'UTC')::date, kind, provider, model, coalesce(agent_id, ''),
           coalesce(end_user_id, ''), count(*), sum(calls), sum(prompt_tokens), sum(completion_tokens),
           sum(latency_ms)
    FROM new_rows
    GROUP BY 1, 2, 3, 4, 5, 6, 7
    ON CONFLICT (tenant_id, day, kind, provider, model, agent_id, end_user_id) DO UPDATE SET
        events = d.events + EXCLUDED.events,
        calls = d.calls + EXCLUDED.calls,
        prompt_tokens = d.prompt_tokens + EXCLUDED.prompt_tokens,
        completion_tokens = d.completion_tokens + EXCLUDED.completion_tokens,
        latency_ms = d.latency_ms + EXCLUDED.latency_ms
    """
)


class Ledger:
    def __init__(self, engine: AsyncEngine):
        self.engine = engine
        self._batcher: Batcher[tuple[str, UsageRecord], None] = Batcher(self._write, "usage_ledger")

    async def record(self, tenant_id: str, record: UsageRecord) -> None:
        """Returns once `record` is committed (with whatever else was recorded at the same time)."""
        await self._batcher.send((tenant_id, record))

    async def close(self) -> None:
        await self._batcher.close()

    async def _write(self, items: list[tuple[str, UsageRecord]]) -> Sequence[None]:
        by_tenant: dict[str, dict[str, dict[str, Any]]] = {}
        for tenant_id, record in items:
            by_tenant.setdefault(tenant_id, {})[record.event_id] = record.model_dump(mode="json")
        with tenant_scope(items[0][0]):  # the application role: row-level security checks every row
            async with self.engine.begin() as conn:
                for tenant_id, rows in by_tenant.items():
                    await conn.execute(sa.select(sa.func.set_config("nooble4.tenant_id", tenant_id, True)))
                    await conn.execute(_RECORD, {"tenant_id": tenant_id, "rows": json.dumps(list(rows.values()))})
        for _, record in items:
            metrics.USAGE_RECORDED.labels(record.kind.value).inc()
        return [None] * len(items)


class UsageFilters(BaseModel):
    since: date
    until: date  # inclusive
    agent_id: str | None = None
    model: str | None = None
    end_user_id: str | None = None
    kind: UsageKind | None = None


class UsageTotals(BaseModel):
    events: int = 0
    calls: int = 0
    prompt_tokens: int = 0
    completion_tokens: int = 0
    total_tokens: int = 0


class UsageDay(UsageTotals):
    day: date


class UsageGroup(UsageTotals):
    key: str  # the model (`provider/model`), agent id or kind


class UsageReport(BaseModel):
    since: date
    until: date
    totals: UsageTotals
    days: list[UsageDay]  # every day of the period, zeros included (a chart's x axis)
    by_model: list[UsageGroup]
    by_agent: list[UsageGroup]
    by_kind: list[UsageGroup]


def _sums() -> list[Any]:
    """The totals of the daily rollups selected."""
    prompt = sa.func.coalesce(sa.func.sum(usage_daily.c.prompt_tokens), 0)
    completion = sa.func.coalesce(sa.func.sum(usage_daily.c.completion_tokens), 0)
    return [
        sa.func.coalesce(sa.func.sum(usage_daily.c.events), 0).label("events"),
        sa.func.coalesce(sa.func.sum(usage_daily.c.calls), 0).label("calls"),
        prompt.label("prompt_tokens"),
        completion.label("completion_tokens"),
        (prompt + completion).label("total_tokens"),
    ]


def _daily_where(tenant_id: str, f: UsageFilters) -> Any:
    clauses = [usage_daily.c.tenant_id == tenant_id, usage_daily.c.day >= f.since, usage_daily.c.day <= f.until]
    if f.agent_id is not None:
        clauses.append(usage_daily.c.agent_id == f.agent_id)
    if f.model is not None:
        clauses.append(usage_daily.c.model == f.model)
    if f.end_user_id is not None:
        clauses.append(usage_daily.c.end_user_id == f.end_user_id)
    if f.kind is not None:
        clauses.append(usage_daily.c.kind == f.kind.value)
    return sa.and_(*clauses)


async def usage_report(engine: AsyncEngine, tenant_id: str, filters: UsageFilters) -> UsageReport:
    """The tenant's usage over the period, from the daily rollups: totals, per day, per model, agent and kind."""
    where = _daily_where(tenant_id, filters)
    model_key = usage_daily.c.provider + "/" + usage_daily.c.model
    async with engine.connect() as conn:
        totals = (await conn.execute(sa.select(*_sums()).where(where))).one()
        per_day = {
            r.day: r
            for r in await conn.execute(sa.select(usage_daily.c.day, *_sums()).where(where).group_by(usage_daily.c.day))
        }
        groups = {}
        for name, key in (
            ("by_model", model_key),
            ("by_agent", usage_daily.c.agent_id),
            ("by_kind", usage_daily.c.kind),
        ):
            rows = await conn.execute(
                sa.select(key.label("key"), *_sums()).where(where).group_by(key).order_by(sa.desc("total_tokens"), key)
            )
            groups[name] = [UsageGroup.model_validate(r._asdict()) for r in rows]
    days = []
    day = filters.since
    while day <= filters.until:
        row = per_day.get(day)
        days.append(UsageDay.model_validate((row._asdict() if row else {}) | {"day": day}))
        day += timedelta(days=1)
    return UsageReport(
        since=filters.since,
        until=filters.until,
        totals=UsageTotals.model_validate(totals._asdict()),
        days=days,
        **groups,
    )


CSV_COLUMNS = [c.name for c in usage_events.c if c.name not in {"tenant_id", "recorded_at"}]


async def usage_csv(engine: AsyncEngine, tenant_id: str, filters: UsageFilters) -> AsyncIterator[str]:
    """The ledger's entries of the period (oldest first) as CSV, streamed from the database."""
    clauses = [
        usage_events.c.tenant_id == tenant_id,
        usage_events.c.occurred_at >= datetime.combine(filters.since, time.min).replace(tzinfo=UTC),
        usage_events.c.occurred_at < datetime.combine(filters.until + timedelta(days=1), time.min).replace(tzinfo=UTC),
    ]
    for column in ("agent_id", "model", "end_user_id", "kind"):
        value = getattr(filters, column)
        if value is not None:
            clauses.append(usage_events.c[column] == str(value))
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow([*CSV_COLUMNS, "total_tokens"])
    async with engine.connect() as conn:
        result = await conn.stream(
            sa.select(*(usage_events.c[c] for c in CSV_COLUMNS))
            .where(*clauses)
            .order_by(usage_events.c.occurred_at, usage_events.c.event_id)
            .execution_options(yield_per=500)
        )
        async for row in result:
            values = row._asdict()
            writer.writerow(
                [_cell(values[c]) for c in CSV_COLUMNS] + [values["prompt_tokens"] + values["completion_tokens"]]
            )
            if buffer.tell() > 64_000:
                yield buffer.getvalue()
                buffer.seek(0)
                buffer.truncate()
    yield buffer.getvalue()


def _cell(value: Any) -> Any:
    """A cell as written: timestamps in ISO 8601; text that a spreadsheet would run as a formula is quoted."""
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, str) and value[:1] in ("=", "+", "-", "@", "\t", "\r"):
        return "'" + value
    return "" if value is None else value
