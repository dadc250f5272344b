"""The usage ledger's writer on real PostgreSQL: records written together, each once, summed per day, and
each tenant's rows visible to that tenant only."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import UTC, date, datetime

import pytest
import sqlalchemy as sa

from agent_management_service.services.ledger import Ledger, UsageFilters, usage_csv, usage_report
from common.contracts.management import UsageKind, UsageRecord
from common.database import create_engine
from common.tenancy import tenant_scope

DAY = date(2026, 3, 14)


def a_record(event_id: str, prompt: int, completion: int, **fields: object) -> UsageRecord:
    return UsageRecord.model_validate(
        {
            "event_id": event_id,
            "kind": UsageKind.CHAT,
            "occurred_at": datetime(2026, 3, 14, 23, 59, tzinfo=UTC),
            "provider": "local",
            "model": "smollm2-135m-instruct",
            "prompt_tokens": prompt,
            "completion_tokens": completion,
            "agent_id": "agent-1",
            "end_user_id": "=cmd|' /C calc'!A0",  # a tenant's own user id; a spreadsheet must not run it
        }
        | fields
    )


@pytest.fixture
async def engine(migrated) -> AsyncIterator:
    engine = create_engine(migrated)
    yield engine
    await engine.dispose()


async def test_records_sent_together_are_written_once_each_and_summed_per_day(engine) -> None:
    ledger = Ledger(engine)
    try:
        records = [("tenant-a", a_record(f"chat:{i}", 10, 5)) for i in range(30)]
        records += [("tenant-b", a_record("chat:b1", 7, 3))]
        records += [("tenant-a", a_record("chat:3", 10, 5))]  # delivered twice (a worker died before acking)
        await asyncio.gather(*(ledger.record(tenant, record) for tenant, record in records))
        await ledger.record("tenant-a", a_record("chat:4", 10, 5))  # and once more, alone
    finally:
        await ledger.close()
    period = UsageFilters(since=DAY, until=DAY)
    with tenant_scope("tenant-a"):
        report = await usage_report(engine, "tenant-a", period)
        # the application role sees only its tenant's rows, whatever the query asks
        async with engine.connect() as conn:
            seen = (await conn.execute(sa.text("SELECT DISTINCT tenant_id FROM usage_events"))).scalars().all()
        exported = "".join([chunk async for chunk in usage_csv(engine, "tenant-a", period)])
    assert seen == ["tenant-a"]
    assert report.totals.events == 30 and report.totals.total_tokens == 30 * 15
    assert [d.total_tokens for d in report.days] == [450]
    assert report.by_agent[0].key == "agent-1" and report.by_model[0].key == "local/smollm2-135m-instruct"
    lines = exported.splitlines()
    assert len(lines) == 31 and lines[0].startswith("event_id,occurred_at,kind")
    assert "'=cmd" in lines[1]  # quoted: a formula is shown, not run
    with tenant_scope("tenant-b"):
        theirs = await usage_report(engine, "tenant-b", period)
    assert theirs.totals.events == 1 and theirs.totals.total_tokens == 10


async def test_a_row_of_another_tenant_is_refused_by_row_level_security(engine) -> None:
    with tenant_scope("tenant-a"), pytest.raises(sa.exc.DBAPIError, match="row-level security"):
        async with engine.begin() as conn:
            await conn.execute(
                sa.text(
                    "INSERT INTO usage_events (tenant_id, event_id, occurred_at, kind, provider, model, "
                    "prompt_tokens, completion_tokens, calls, latency_ms, outcome) "
                    "VALUES ('tenant-b', 'x', now(), 'chat', 'local', 'm', 1, 1, 1, 1, 'ok')"
                )
            )
