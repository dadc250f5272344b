"""Defence in depth: inside a tenant's scope, PostgreSQL itself hides and refuses other tenants' rows, so a
query that forgets `WHERE tenant_id = ...` cannot leak (migration 0006, `common.tenancy`)."""

from __future__ import annotations

import uuid

import pytest
import sqlalchemy as sa
from sqlalchemy.exc import DBAPIError

from common.database import create_engine
from common.tenancy import current_tenant, tenant_scope
from tests.support.helpers import new_tenant

TABLES = [
    "tenants",
    "api_keys",
    "agents",
    "conversations",
    "messages",
    "collections",
    "documents",
    "ingestion_tasks",
    "chunks",
    "chunk_terms",
]


async def _agent(conn, tenant_id: str, name: str) -> None:
    await conn.execute(
        sa.text(
            "INSERT INTO agents (id, tenant_id, name, description, system_prompt, model, tools, collection_ids,"
            " memory, is_active) VALUES (:id, :t, :n, '', 'x', '{}', '[]', '[]', '{}', true)"
        ),
        {"id": str(uuid.uuid4()), "t": tenant_id, "n": name},
    )


async def test_a_query_without_the_tenant_filter_sees_no_foreign_rows(migrated) -> None:
    tenant_a, _ = await new_tenant(migrated, "professional", "A")
    tenant_b, _ = await new_tenant(migrated, "professional", "B")
    engine = create_engine(migrated)
    unfiltered = sa.text("SELECT tenant_id, name FROM agents")  # the bug RLS guards against: no WHERE
    try:
        async with engine.begin() as conn:  # system work (no scope): sees and writes everything
            await _agent(conn, tenant_a, "a-agent")
            await _agent(conn, tenant_b, "b-agent")
            assert {row.name for row in await conn.execute(unfiltered)} == {"a-agent", "b-agent"}
        with tenant_scope(tenant_a):
            assert current_tenant() == tenant_a
            async with engine.connect() as conn:
                assert [tuple(r) for r in await conn.execute(unfiltered)] == [(tenant_a, "a-agent")]
                tenants = await conn.execute(sa.text("SELECT id FROM tenants"))
                assert [row.id for row in tenants] == [tenant_a]
                keys = await conn.execute(sa.text("SELECT DISTINCT tenant_id FROM api_keys"))
                assert [row.tenant_id for row in keys] == [tenant_a]
                b_rows = await conn.execute(
                    sa.text("UPDATE agents SET name = 'hijacked' WHERE tenant_id = :b"), {"b": tenant_b}
                )
                assert b_rows.rowcount == 0  # another tenant's rows cannot be changed either
            with pytest.raises(DBAPIError, match="row-level security"):
                async with engine.begin() as conn:
                    await _agent(conn, tenant_b, "planted")  # nor written for another tenant
        with tenant_scope(tenant_b):
            async with engine.connect() as conn:
                assert [tuple(r) for r in await conn.execute(unfiltered)] == [(tenant_b, "b-agent")]
        async with engine.connect() as conn:
            forced = await conn.execute(
                sa.text(
                    "SELECT relname FROM pg_class WHERE relrowsecurity AND relforcerowsecurity"
                    " AND relnamespace = current_schema()::regnamespace"
                )
            )
            assert set(TABLES) <= {row.relname for row in forced}
    finally:
        await engine.dispose()
