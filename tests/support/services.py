"""Running services in the test process: app with its lifespan over ASGI, worker as a task."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import asyncpg
import httpx
from fastapi import FastAPI

from common.database import async_url
from common.service import ServiceSpec, create_service_app
from common.settings import CommonSettings


@asynccontextmanager
async def serving(app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    """The app with its lifespan running, reached in-process over ASGI."""

    async def own_task(scope: Any, receive: Any, send: Any) -> None:
        # each request in a task of its own, as uvicorn runs it: what a request scopes (the tenant of
        # row-level security) stays in that request instead of leaking into the test's task
        await asyncio.create_task(app(scope, receive, send))

    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=own_task)
        async with httpx.AsyncClient(transport=transport, base_url="http://test") as http:
            yield http


@asynccontextmanager
async def running(spec: ServiceSpec, settings: CommonSettings) -> AsyncIterator[httpx.AsyncClient]:
    """A whole service (API + worker) on the test's Redis and schema."""
    settings = spec.settings_class(**settings.model_dump())  # with the service's own settings too
    async with spec.open_deps(settings) as deps:
        worker = spec.worker(settings, deps)
        task = asyncio.create_task(worker.run())
        try:
            async with serving(create_service_app(spec, settings, deps)) as http:
                yield http
        finally:
            worker.stop()
            await task


async def drop_schema(settings: CommonSettings) -> None:
    conn = await asyncpg.connect(async_url(settings.database_url).replace("+asyncpg", ""))
    try:
        await conn.execute(f'DROP SCHEMA IF EXISTS "{settings.database_schema}" CASCADE')
    finally:
        await conn.close()
