"""A service's HTTP shell on real Redis and PostgreSQL: ops endpoints, error mapping, migrations."""

from __future__ import annotations

import asyncpg
import pytest
from fastapi import APIRouter
from pydantic import BaseModel

from common.database import async_url
from common.errors import NotFoundError
from common.migrate import migrate
from common.service import ServiceSpec, create_service_app, open_service_deps
from common.settings import CommonSettings
from common.workers.router import ActionRouter
from query_service.app import create_app
from tests.support.services import drop_schema as _drop_schema
from tests.support.services import serving


async def _fetch(settings: CommonSettings, sql: str):
    conn = await asyncpg.connect(async_url(settings.database_url).replace("+asyncpg", ""))
    try:
        return await conn.fetchval(sql)
    finally:
        await conn.close()


async def test_ops_endpoints(migrated: CommonSettings) -> None:
    async with serving(create_app()) as http:
        assert (await http.get("/health")).json() == {"status": "ok", "service": "query_service"}
        ready = await http.get("/ready")
        assert ready.status_code == 200
        assert ready.json() == {"status": "ready", "checks": {"redis": "ok", "database": "ok"}}
        assert "nooble4_actions_total" in (await http.get("/metrics")).text


async def test_ready_reports_an_unreachable_redis(migrated: CommonSettings, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("NOOBLE4_REDIS_URL", "redis://127.0.0.1:1/0")
    async with serving(create_app()) as http:
        ready = await http.get("/ready")
    assert ready.status_code == 503
    assert ready.json()["checks"]["redis"].startswith("error") and ready.json()["checks"]["database"] == "ok"


class Body(BaseModel):
    name: str


async def test_errors_map_to_typed_json(migrated: CommonSettings) -> None:
    api = APIRouter()

    @api.get("/missing")
    async def missing() -> None:
        raise NotFoundError("no such agent", code="agent_not_found")

    @api.post("/things")
    async def things(body: Body) -> Body:
        return body

    spec = ServiceSpec(
        name="t",
        domain="t",
        title="t",
        settings_class=CommonSettings,
        router=ActionRouter(),
        api_routers=[api],
        open_deps=open_service_deps,
    )
    async with serving(create_service_app(spec, CommonSettings())) as http:
        response = await http.get("/missing")
        assert response.status_code == 404
        assert response.json()["error"] == {
            "error_type": "not_found",
            "error_code": "agent_not_found",
            "message": "no such agent",
            "details": None,
        }
        invalid = await http.post("/things", json={"name": 3})
        assert invalid.status_code == 422
        assert invalid.json()["error"]["error_code"] == "invalid_request"
        assert invalid.json()["error"]["details"]["errors"][0]["loc"] == ["body", "name"]


async def test_migrations_are_idempotent_and_enable_pgvector(settings: CommonSettings) -> None:
    try:
        await migrate(settings)
        await migrate(settings)
        schema = settings.database_schema
        assert await _fetch(settings, f'SELECT version_num FROM "{schema}".alembic_version') == "0015"
        assert await _fetch(settings, "SELECT extname FROM pg_extension WHERE extname = 'vector'") == "vector"
    finally:
        await _drop_schema(settings)


async def test_routing_errors_use_the_platform_error_shape(migrated: CommonSettings) -> None:
    async with serving(create_app()) as http:
        wrong_method = await http.put("/api/v1/query/search")
        assert wrong_method.status_code == 405 and wrong_method.headers["allow"] == "POST"
        assert wrong_method.json()["error"]["error_code"] == "method_not_allowed"
        missing = await http.get("/api/v1/nothing-here")
        assert missing.status_code == 404 and missing.json()["error"]["error_type"] == "not_found"
