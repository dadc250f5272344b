"""Pooled PostgreSQL connections the server has ended are never handed to a request."""

from __future__ import annotations

import asyncio

import asyncpg
import pytest
import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncEngine

from common import database
from common.database import async_url, create_engine
from common.settings import CommonSettings


async def _terminate_backends(settings: CommonSettings, application_pids: list[int]) -> None:
    """What a PostgreSQL restart or an administrator does to the pool's connections; returns once they are gone."""
    admin = await asyncpg.connect(async_url(settings.database_url).replace("+asyncpg", ""))
    try:
        ended = await admin.fetch(  # with a timeout, each call waits until the backend has exited
            "SELECT pg_terminate_backend(pid, 5000) AS ended FROM unnest($1::int[]) AS pid", application_pids
        )
        assert all(row["ended"] for row in ended)
    finally:
        await admin.close()


async def _pool_pids(engine: AsyncEngine, connections: int) -> list[int]:
    """Holds `connections` connections at once so the pool keeps that many, and returns their backend pids."""
    held = [await engine.connect() for _ in range(connections)]
    try:
        return [(await conn.execute(sa.text("SELECT pg_backend_pid()"))).scalar_one() for conn in held]
    finally:
        for conn in held:
            await conn.close()


@pytest.mark.parametrize("idle_ping_s", [0.0, 3600.0], ids=["pinged-when-idle", "known-closed"])
async def test_every_transaction_after_the_servers_connections_ended_succeeds(
    settings: CommonSettings, monkeypatch: pytest.MonkeyPatch, idle_ping_s: float
) -> None:
    monkeypatch.setattr(database, "IDLE_PING_S", idle_ping_s)
    engine = create_engine(settings)
    try:
        pids = await _pool_pids(engine, 3)
        await _terminate_backends(settings, pids)
        if idle_ping_s:  # no ping: asyncpg must have read the end of each connection (its socket's EOF) itself
            for _ in range(100):
                await asyncio.sleep(0)
        results = []
        for _ in range(5):
            async with engine.begin() as conn:
                results.append((await conn.execute(sa.text("SELECT pg_backend_pid()"))).scalar_one())
        assert not set(results) & set(pids)  # served by new connections, none failed
    finally:
        await engine.dispose()
