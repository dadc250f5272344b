"""The audit log on the real platform: every admin change recorded with who, what changed (before/after, never a
secret) and the request's trace id; tenant-scoped; append-only even for the database owner."""

from __future__ import annotations

import json
import secrets
from typing import Any

import httpx
import pytest
import sqlalchemy as sa

from common.database import create_engine
from tests.support.platform import ChatPlatform, Knowledge, auth

MANAGEMENT = "agent_management_service"


async def call(platform: ChatPlatform, key: str, method: str, service: str, path: str, **kw: Any) -> httpx.Response:
    async with httpx.AsyncClient(timeout=15) as http:
        headers = auth(key) | kw.pop("headers", {})
        return await http.request(method, f"{platform.url(service)}{path}", headers=headers, **kw)


async def test_admin_changes_are_audited_with_actor_changes_and_trace_and_never_a_secret(
    chat_platform: ChatPlatform,
) -> None:
    key = await chat_platform.new_tenant()
    other = await chat_platform.new_tenant()
    [own_key] = (await call(chat_platform, key, "GET", MANAGEMENT, "/api/v1/tenants/me/keys")).json()
    agent = await chat_platform.new_agent(key, name="Helper", system_prompt="Be brief.")
    trace_id = secrets.token_hex(16)
    updated = await call(
        chat_platform,
        key,
        "PATCH",
        MANAGEMENT,
        f"/api/v1/agents/{agent}",
        json={"system_prompt": "Be very brief.", "budget": {"tokens_per_day": 5000}},
        headers={"traceparent": f"00-{trace_id}-{secrets.token_hex(8)}-01"},
    )
    assert updated.status_code == 200
    created = (
        await call(chat_platform, key, "POST", MANAGEMENT, "/api/v1/tenants/me/keys", json={"name": "ci"})
    ).json()
    assert (
        await call(chat_platform, key, "DELETE", MANAGEMENT, f"/api/v1/tenants/me/keys/{created['id']}")
    ).status_code == 204
    minted = await chat_platform.end_user_token(key, agent, "customer-1")
    budget = await call(chat_platform, key, "PUT", MANAGEMENT, "/api/v1/tenants/me/budget", json={"tokens_per_day": 9})
    assert budget.status_code == 200
    async with Knowledge(chat_platform, key) as kb:
        collection = await kb.collection("handbook")
        document = await kb.ingested(collection, "a.txt", b"Some words to keep.\n")
        doc_id = document["document_id"]
        assert (await kb.http.delete(f"{kb.ingestion}/api/v1/documents/{doc_id}")).status_code == 204
        assert (await kb.http.delete(f"{kb.ingestion}/api/v1/collections/{collection}")).status_code == 204
    assert (await call(chat_platform, key, "DELETE", MANAGEMENT, f"/api/v1/agents/{agent}")).status_code == 204

    page = (await call(chat_platform, key, "GET", MANAGEMENT, "/api/v1/audit", params={"limit": 100})).json()
    actions = [e["action"] for e in reversed(page["items"])]  # oldest first
    assert actions == [
        "agent.created",
        "agent.updated",
        "api_key.created",
        "api_key.revoked",
        "end_user_token.minted",
        "tenant.budget_set",
        "collection.created",
        "document.deleted",
        "collection.deleted",
        "agent.deleted",
    ]
    assert {e["actor"] for e in page["items"]} == {f"api_key:{own_key['id']}"}
    [update] = [e for e in page["items"] if e["action"] == "agent.updated"]
    assert update["target_id"] == agent and update["trace_id"] == trace_id
    assert update["changes"] == {
        "budget": {
            "before": {"tokens_per_day": None, "tokens_per_month": None},
            "after": {"tokens_per_day": 5000, "tokens_per_month": None},
        },
        "system_prompt": {"before": "Be brief.", "after": "Be very brief."},
    }
    [budget_set] = [e for e in page["items"] if e["action"] == "tenant.budget_set"]
    assert budget_set["changes"]["tokens_per_day"] == {"before": None, "after": 9}
    everything = json.dumps(page)
    assert created["api_key"] not in everything and minted["token"] not in everything
    assert created["prefix"] in everything  # the key is named by what the console shows, never by itself

    filtered = (await call(chat_platform, key, "GET", MANAGEMENT, "/api/v1/audit", params={"target_id": agent})).json()
    assert [e["action"] for e in filtered["items"]] == ["agent.deleted", "agent.updated", "agent.created"]
    theirs = (await call(chat_platform, other, "GET", MANAGEMENT, "/api/v1/audit")).json()
    assert theirs["total"] == 0

    engine = create_engine(chat_platform.settings)
    try:
        with pytest.raises(sa.exc.DBAPIError, match="append-only"):
            async with engine.begin() as conn:  # even the owner role, outside any tenant scope
                await conn.execute(sa.text("UPDATE audit_log SET actor = 'someone else'"))
        with pytest.raises(sa.exc.DBAPIError, match="append-only"):
            async with engine.begin() as conn:
                await conn.execute(sa.text("DELETE FROM audit_log"))
    finally:
        await engine.dispose()
