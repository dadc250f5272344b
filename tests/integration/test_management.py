"""Tenants, API keys, agents and templates through the management service's REST API and actions."""

from __future__ import annotations

import asyncio
import os
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import jwt
import pytest

from agent_management_service.app import SPEC
from common.clients import BaseRedisClient
from common.errors import NotFoundError
from common.models.tiers import Tier
from tests.support.helpers import new_tenant, tenant_create
from tests.support.services import running

ROOT = Path(__file__).resolve().parents[2]
AGENT = {"name": "Helper", "system_prompt": "Be helpful."}


@pytest.fixture
async def api(migrated) -> AsyncIterator:
    async with running(SPEC, migrated) as http:
        yield http


async def test_cli_creates_a_tenant_whose_key_works(api, migrated, test_env) -> None:
    created = await asyncio.to_thread(
        tenant_create, {**os.environ, **test_env}, "--name", "Cli Co", "--tier", "advance"
    )
    assert created["api_key"].startswith("nk_") and created["tier"] == "advance"
    me = await api.get("/api/v1/tenants/me", headers={"Authorization": f"Bearer {created['api_key']}"})
    assert me.status_code == 200 and me.json()["name"] == "Cli Co"


async def test_agent_crud_pagination_and_soft_delete(api, migrated) -> None:
    _, auth = await new_tenant(migrated)
    created = []
    for n in range(3):
        response = await api.post("/api/v1/agents", json={**AGENT, "name": f"a{n}"}, headers=auth)
        assert response.status_code == 201, response.text
        created.append(response.json())
    agent = created[0]
    assert agent["model"]["provider"] == "local" and agent["memory"]["max_messages"] == 20
    page = (await api.get("/api/v1/agents?limit=2&offset=0", headers=auth)).json()
    assert page["total"] == 3 and [a["name"] for a in page["items"]] == ["a2", "a1"]  # newest first
    rest = (await api.get("/api/v1/agents?limit=2&offset=2", headers=auth)).json()
    assert [a["name"] for a in rest["items"]] == ["a0"]
    patched = await api.patch(f"/api/v1/agents/{agent['id']}", json={"description": "new"}, headers=auth)
    assert patched.json()["description"] == "new" and patched.json()["name"] == "a0"
    assert (await api.delete(f"/api/v1/agents/{agent['id']}", headers=auth)).status_code == 204
    gone = await api.get(f"/api/v1/agents/{agent['id']}", headers=auth)
    assert gone.status_code == 404 and gone.json()["error"]["error_code"] == "agent_not_found"
    assert (await api.get("/api/v1/agents", headers=auth)).json()["total"] == 2


@pytest.mark.parametrize(
    "body, field",
    [
        ({"name": "", "system_prompt": "x"}, "name"),
        ({"name": "x"}, "system_prompt"),
        ({**AGENT, "model": {"provider": "skynet"}}, "provider"),
        ({**AGENT, "model": {"temperature": 5}}, "temperature"),
        ({**AGENT, "tools": ["rm -rf"]}, "tools"),
        ({**AGENT, "surprise": True}, "surprise"),
    ],
)
async def test_invalid_agents_get_clear_422s(api, migrated, body, field) -> None:
    _, auth = await new_tenant(migrated)
    response = await api.post("/api/v1/agents", json=body, headers=auth)
    assert response.status_code == 422
    error = response.json()["error"]
    assert error["error_type"] == "validation_error"
    assert any(field in map(str, e["loc"]) for e in error["details"]["errors"])


async def test_templates_and_instantiation(api, migrated) -> None:
    _, auth = await new_tenant(migrated)
    templates = (await api.get("/api/v1/templates", headers=auth)).json()
    assert {"customer-support", "knowledge-base-qa", "sales-assistant"} <= {t["id"] for t in templates}
    made = await api.post("/api/v1/agents/from-template", json={"template_id": "customer-support"}, headers=auth)
    assert made.status_code == 201  # collections are checked with the ingestion service: tests/e2e/test_knowledge.py
    assert made.json()["tools"] == [] and made.json()["collection_ids"] == []
    assert made.json()["knowledge"]["mode"] == "auto"  # retrieval before every question, not a tool to choose
    missing = await api.post("/api/v1/agents/from-template", json={"template_id": "nope"}, headers=auth)
    assert missing.status_code == 404 and missing.json()["error"]["error_code"] == "template_not_found"


async def test_tier_caps(api, migrated) -> None:
    _, auth = await new_tenant(migrated, Tier.FREE)
    assert (await api.post("/api/v1/agents", json=AGENT, headers=auth)).status_code == 201
    second = await api.post("/api/v1/agents", json=AGENT, headers=auth)
    assert second.status_code == 403
    assert second.json()["error"]["error_type"] == "quota_exceeded"
    assert second.json()["error"]["error_code"] == "agent_quota_exceeded"
    _, auth2 = await new_tenant(migrated, Tier.FREE, "Other")
    openai = await api.post(
        "/api/v1/agents", json={**AGENT, "model": {"provider": "openai", "name": "gpt-4o-mini"}}, headers=auth2
    )
    assert openai.status_code == 403 and openai.json()["error"]["error_code"] == "model_not_allowed"


async def test_tenant_isolation_of_agents(api, migrated) -> None:
    _, auth_a = await new_tenant(migrated, name="A")
    _, auth_b = await new_tenant(migrated, name="B")
    agent = (await api.post("/api/v1/agents", json=AGENT, headers=auth_a)).json()
    url = f"/api/v1/agents/{agent['id']}"
    assert (await api.get(url, headers=auth_b)).status_code == 404
    assert (await api.patch(url, json={"name": "stolen"}, headers=auth_b)).status_code == 404
    assert (await api.delete(url, headers=auth_b)).status_code == 404
    assert (await api.get("/api/v1/agents", headers=auth_b)).json() == {
        "items": [],
        "total": 0,
        "limit": 20,
        "offset": 0,
    }
    assert (await api.get(url, headers=auth_a)).json()["name"] == "Helper"  # untouched


async def test_auth_failures_are_typed_401s(api, migrated) -> None:
    tenant_id, _ = await new_tenant(migrated)
    for headers in (
        {},
        {"Authorization": "Bearer nk_not-a-key"},
        {"Authorization": "Bearer garbage"},
        {"Authorization": "Basic abc"},
    ):
        response = await api.get("/api/v1/agents", headers=headers)
        assert response.status_code == 401, headers
        assert response.json()["error"]["error_type"] == "unauthorized"
    good = jwt.encode(
        {"tenant_id": tenant_id, "exp": int(time.time()) + 60}, migrated.jwt_secret.get_secret_value(), "HS256"
    )
    assert (await api.get("/api/v1/agents", headers={"Authorization": f"Bearer {good}"})).status_code == 200
    supabase = jwt.encode(
        {"sub": "u1", "aud": "authenticated", "app_metadata": {"tenant_id": tenant_id}, "exp": int(time.time()) + 60},
        migrated.jwt_secret.get_secret_value(),
        "HS256",
    )
    assert (await api.get("/api/v1/agents", headers={"Authorization": f"Bearer {supabase}"})).status_code == 200
    cases: list[tuple[dict[str, Any], str]] = [
        ({"tenant_id": tenant_id, "exp": int(time.time()) + 60}, "a-different-secret-that-is-also-long-enough"),
        ({"tenant_id": tenant_id, "exp": int(time.time()) - 10}, migrated.jwt_secret.get_secret_value()),
        ({"tenant_id": tenant_id}, migrated.jwt_secret.get_secret_value()),
        ({"exp": int(time.time()) + 60}, migrated.jwt_secret.get_secret_value()),
    ]
    for claims, secret in cases:
        token = jwt.encode(claims, secret, "HS256")
        response = await api.get("/api/v1/agents", headers={"Authorization": f"Bearer {token}"})
        assert response.status_code == 401 and response.json()["error"]["error_code"] == "invalid_token"


async def test_revoked_key_is_refused_at_once(api, migrated) -> None:
    _, auth = await new_tenant(migrated)
    second = (await api.post("/api/v1/tenants/me/keys", json={"name": "ci"}, headers=auth)).json()
    second_auth = {"Authorization": f"Bearer {second['api_key']}"}
    assert (await api.get("/api/v1/agents", headers=second_auth)).status_code == 200  # now cached
    keys = (await api.get("/api/v1/tenants/me/keys", headers=auth)).json()
    assert {k["name"] for k in keys} == {"default", "ci"} and all("api_key" not in k for k in keys)
    assert (await api.delete(f"/api/v1/tenants/me/keys/{second['id']}", headers=auth)).status_code == 204
    assert (await api.get("/api/v1/agents", headers=second_auth)).status_code == 401
    assert (await api.get("/api/v1/agents", headers=auth)).status_code == 200


async def test_get_config_sees_an_update_immediately(api, migrated, redis) -> None:
    tenant_id, auth = await new_tenant(migrated)
    agent = (await api.post("/api/v1/agents", json=AGENT, headers=auth)).json()
    client = BaseRedisClient(redis, migrated, "execution")

    async def config(tier: Tier = Tier.PROFESSIONAL) -> dict:
        action = client.new_action(
            "management.agent.get_config", tenant_id=tenant_id, tenant_tier=tier, data={"agent_id": agent["id"]}
        )
        return await client.call_action(action, timeout=10)

    first = await config()
    assert first["system_prompt"] == "Be helpful." and first["timeout_s"] == 120
    # the tenant's tier changed (upgraded): its limits apply at once, not when the cached config expires
    assert (await config(Tier.ENTERPRISE))["timeout_s"] == 300
    assert (await config(Tier.FREE))["timeout_s"] == 30
    await api.patch(f"/api/v1/agents/{agent['id']}", json={"system_prompt": "Be brief."}, headers=auth)
    assert (await config())["system_prompt"] == "Be brief."
    assert (await config(Tier.ENTERPRISE))["system_prompt"] == "Be brief."  # every tier's cached copy dropped
    await api.delete(f"/api/v1/agents/{agent['id']}", headers=auth)
    with pytest.raises(NotFoundError):
        await config()
    other_tenant = client.new_action(
        "management.agent.get_config", tenant_id="someone-else", data={"agent_id": agent["id"]}
    )
    with pytest.raises(NotFoundError):
        await client.call_action(other_tenant, timeout=10)
