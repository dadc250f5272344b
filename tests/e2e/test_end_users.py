"""End users: a tenant's backend mints a short-lived token for one agent and one of its users; the token chats
with that agent as that user, reads that user's conversations, and is refused everywhere else. Real platform,
real HTTP and WebSocket."""

from __future__ import annotations

import json
import time
import uuid
from typing import Any

import httpx
import jwt
import pytest
from redis.asyncio import Redis
from websockets.asyncio.client import connect
from websockets.exceptions import ConnectionClosed

from common.auth import api_key_cache_key, hash_api_key
from common.messaging.queue_manager import QueueManager
from tests.support.platform import PLATFORM_JWT_SECRET, ChatPlatform, auth, chat


async def mint(platform: ChatPlatform, key: str, agent_id: str, user: str, **fields: Any) -> str:
    return str((await platform.end_user_token(key, agent_id, user, **fields))["token"])


async def open_session(
    platform: ChatPlatform, token: str, agent_id: str, headers: dict[str, str] | None = None, **body: Any
) -> httpx.Response:
    async with httpx.AsyncClient(timeout=10) as http:
        return await http.post(
            f"{platform.orchestrator}/api/v1/chat/sessions",
            json={"agent_id": agent_id, **body},
            headers=auth(token) | (headers or {}),
        )


async def get(platform: ChatPlatform, service: str, path: str, token: str, **headers: str) -> httpx.Response:
    async with httpx.AsyncClient(timeout=10) as http:
        return await http.get(f"{platform.url(service)}{path}", headers=auth(token) | headers)


async def test_an_end_user_token_chats_with_its_agent_and_sees_only_its_own_conversations(
    chat_platform: ChatPlatform,
) -> None:
    key = await chat_platform.new_tenant()
    agent = await chat_platform.new_agent(key, name="Shop assistant")
    other_agent = await chat_platform.new_agent(key, name="Internal")
    minted = await chat_platform.end_user_token(key, agent, "customer-ana", expires_in_s=600)
    assert minted["token"].startswith("neu_") and minted["tenant_id"] and minted["end_user_id"] == "customer-ana"
    ana = minted["token"]
    bob = await mint(chat_platform, key, agent, "customer-bob")

    response = await open_session(chat_platform, ana, agent)
    assert response.status_code == 201, response.text
    session = response.json()
    async with chat(session, ana) as client:
        await client.until("session_ready")
        events = await client.turn("where is my order?")
        assert events[-1]["type"] == "message_end" and "where is my order?" in events[-1]["content"]

    # the conversation is recorded with the end user; the tenant lists and filters by end user
    mine = await get(chat_platform, "conversation_service", "/api/v1/conversations", ana)
    assert [c["id"] for c in mine.json()["items"]] == [session["conversation_id"]]
    assert mine.json()["items"][0]["end_user_id"] == "customer-ana"
    by_user = await get(chat_platform, "conversation_service", "/api/v1/conversations?end_user_id=customer-ana", key)
    assert [c["id"] for c in by_user.json()["items"]] == [session["conversation_id"]]
    transcript = await get(
        chat_platform, "conversation_service", f"/api/v1/conversations/{session['conversation_id']}", ana
    )
    assert [m["role"] for m in transcript.json()["messages"]] == ["user", "assistant"]

    # another end user of the same agent sees none of it
    assert (await get(chat_platform, "conversation_service", "/api/v1/conversations", bob)).json()["items"] == []
    theirs = f"/api/v1/conversations/{session['conversation_id']}"
    assert (await get(chat_platform, "conversation_service", theirs, bob)).status_code == 404
    assert (await get(chat_platform, "conversation_service", f"{theirs}/export", bob)).status_code == 404
    hijack = await open_session(chat_platform, bob, agent, conversation_id=session["conversation_id"])
    assert hijack.status_code == 404, hijack.text
    assert (
        await get(chat_platform, "agent_orchestrator_service", f"/api/v1/chat/sessions/{session['session_id']}", bob)
    ).status_code == 404
    with pytest.raises(ConnectionClosed) as closed:
        async with chat(session, bob) as client:
            await client.next()
    assert closed.value.rcvd is not None and closed.value.rcvd.code == 4404
    spoofed = await open_session(chat_platform, bob, agent, end_user_id="customer-ana")
    assert spoofed.status_code == 403 and spoofed.json()["error"]["error_code"] == "end_user_mismatch"

    # Ana may continue her own conversation
    again = await open_session(chat_platform, ana, agent, conversation_id=session["conversation_id"])
    assert again.status_code == 201, again.text

    # a second agent, and every route that is not chat or the user's own conversations: 403
    second = await open_session(chat_platform, ana, other_agent)
    assert second.status_code == 403 and second.json()["error"]["error_code"] == "agent_not_allowed"
    refused = [
        ("agent_management_service", "GET", "/api/v1/agents", None),
        ("agent_management_service", "GET", f"/api/v1/agents/{agent}", None),
        ("agent_management_service", "DELETE", f"/api/v1/agents/{agent}", None),
        ("agent_management_service", "GET", "/api/v1/tenants/me", None),
        ("agent_management_service", "GET", "/api/v1/tenants/me/keys", None),
        ("agent_management_service", "POST", "/api/v1/tenants/me/keys", {"name": "x"}),
        ("agent_management_service", "GET", "/api/v1/end-user-tokens", None),
        ("agent_management_service", "POST", "/api/v1/end-user-tokens", {"agent_id": agent, "end_user_id": "x"}),
        ("ingestion_service", "GET", "/api/v1/collections", None),
        ("ingestion_service", "GET", "/api/v1/documents", None),
        ("query_service", "POST", "/api/v1/query/search", {"query": "x", "collection_ids": ["c"]}),
        ("conversation_service", "GET", "/api/v1/conversations/stats", None),
        ("conversation_service", "GET", "/api/v1/conversations/end-users", None),
        ("conversation_service", "DELETE", f"/api/v1/conversations/{session['conversation_id']}", None),
        ("agent_orchestrator_service", "GET", "/api/v1/chat/agents", None),
    ]
    async with httpx.AsyncClient(timeout=10) as http:
        for service, method, path, body in refused:
            response = await http.request(method, f"{chat_platform.url(service)}{path}", json=body, headers=auth(ana))
            assert response.status_code == 403, (method, path, response.text)
            assert response.json()["error"]["error_code"] == "end_user_forbidden", path
    assert (await get(chat_platform, "conversation_service", theirs, key)).status_code == 200  # still there

    # the tenant sees its end users: count, turns and tokens of each
    users = (await get(chat_platform, "conversation_service", "/api/v1/conversations/end-users", key)).json()
    assert users["total"] == 1
    assert users["items"][0]["end_user_id"] == "customer-ana" and users["items"][0]["turns"] == 1
    assert users["items"][0]["total_tokens"] > 0


async def test_expired_revoked_and_foreign_tokens_are_refused_with_a_clear_message(
    chat_platform: ChatPlatform,
) -> None:
    key = await chat_platform.new_tenant()
    agent = await chat_platform.new_agent(key)
    minted = await chat_platform.end_user_token(key, agent, "customer-1")
    await chat_platform.expire("end_user_tokens", minted["id"])  # as if its lifetime had passed
    expired = await open_session(chat_platform, minted["token"], agent)
    assert expired.status_code == 401, expired.text
    assert expired.json()["error"]["error_code"] == "token_expired"
    assert "expired" in expired.json()["error"]["message"]

    live = await chat_platform.end_user_token(key, agent, "customer-2")
    session = (await open_session(chat_platform, live["token"], agent)).json()
    async with httpx.AsyncClient(timeout=10) as http:
        revoked = await http.delete(
            f"{chat_platform.url('agent_management_service')}/api/v1/end-user-tokens/{live['id']}", headers=auth(key)
        )
        assert revoked.status_code == 204
        listed = await http.get(
            f"{chat_platform.url('agent_management_service')}/api/v1/end-user-tokens", headers=auth(key)
        )
    assert all("token" not in t for t in listed.json()) and any(t["revoked_at"] for t in listed.json())
    assert (await open_session(chat_platform, live["token"], agent)).status_code == 401
    with pytest.raises(ConnectionClosed) as closed:
        async with chat(session, live["token"]) as client:
            await client.next()
    assert closed.value.rcvd is not None and closed.value.rcvd.code == 4401

    # another tenant's agent cannot be named in a token; another tenant's token opens nothing here
    other_key = await chat_platform.new_tenant()
    async with httpx.AsyncClient(timeout=10) as http:
        foreign = await http.post(
            f"{chat_platform.url('agent_management_service')}/api/v1/end-user-tokens",
            json={"agent_id": agent, "end_user_id": "x"},
            headers=auth(other_key),
        )
    assert foreign.status_code == 404
    for bad in ({"expires_in_s": 10}, {"expires_in_s": 10**9}, {"end_user_id": "a\x00b"}, {"request_budget": 0}):
        async with httpx.AsyncClient(timeout=10) as http:
            response = await http.post(
                f"{chat_platform.url('agent_management_service')}/api/v1/end-user-tokens",
                json={"agent_id": agent, "end_user_id": "u", **bad},
                headers=auth(key),
            )
        assert response.status_code == 422, (bad, response.text)


async def test_an_end_users_request_budget_is_counted_once_per_turn(chat_platform: ChatPlatform) -> None:
    key = await chat_platform.new_tenant()
    agent = await chat_platform.new_agent(key)
    token = await mint(chat_platform, key, agent, "trial-user", request_budget=2)
    session = (await open_session(chat_platform, token, agent)).json()
    async with chat(session, token) as client:
        await client.until("session_ready")
        for n in range(2):
            assert (await client.turn(f"question {n}"))[-1]["type"] == "message_end"
        await client.send(type="message", content="one too many")
        refused = (await client.until("error"))[-1]
    assert refused["code"] == "quota_exceeded" and "budget of 2" in refused["message"]


async def test_browsers_of_origins_the_tenant_has_not_allowed_are_refused(chat_platform: ChatPlatform) -> None:
    key = await chat_platform.new_tenant()
    agent = await chat_platform.new_agent(key)
    token = await mint(chat_platform, key, agent, "web-user")
    shop = {"Origin": "https://shop.example.com"}
    refused = await open_session(chat_platform, token, agent, headers=shop)
    assert refused.status_code == 403 and refused.json()["error"]["error_code"] == "origin_not_allowed"

    async with httpx.AsyncClient(timeout=10) as http:
        bad = await http.put(
            f"{chat_platform.url('agent_management_service')}/api/v1/tenants/me/allowed-origins",
            json={"allowed_origins": ["https://shop.example.com/path"]},
            headers=auth(key),
        )
        assert bad.status_code == 422
        updated = await http.put(
            f"{chat_platform.url('agent_management_service')}/api/v1/tenants/me/allowed-origins",
            json={"allowed_origins": ["https://shop.example.com"]},
            headers=auth(key),
        )
        assert updated.status_code == 200 and updated.json()["allowed_origins"] == ["https://shop.example.com"]
        preflight = await http.options(
            f"{chat_platform.orchestrator}/api/v1/chat/sessions",
            headers=shop | {"Access-Control-Request-Method": "POST", "Access-Control-Request-Headers": "authorization"},
        )
        assert preflight.status_code == 200
    allowed = await open_session(chat_platform, token, agent, headers=shop)
    assert allowed.status_code == 201, allowed.text
    assert allowed.headers["access-control-allow-origin"] == "https://shop.example.com"
    session = allowed.json()
    async with connect(session["ws_url"], additional_headers=shop, open_timeout=10) as ws:
        await ws.send(json.dumps({"type": "auth", "token": token}))
        assert '"session_ready"' in str(await ws.recv())
    with pytest.raises(ConnectionClosed) as closed:
        async with connect(session["ws_url"], additional_headers={"Origin": "https://evil.example"}) as ws:
            await ws.send(json.dumps({"type": "auth", "token": token}))
            await ws.recv()
    assert closed.value.rcvd is not None and closed.value.rcvd.code == 4403

    # the widget's frame may be framed by the allowed origin only
    async with httpx.AsyncClient(timeout=10) as http:
        tenant_id = (
            await http.get(f"{chat_platform.url('agent_management_service')}/api/v1/tenants/me", headers=auth(key))
        ).json()["id"]
        frame = await http.get(f"{chat_platform.orchestrator}/widget/frame", params={"tenant": tenant_id})
        nobody = await http.get(f"{chat_platform.orchestrator}/widget/frame", params={"tenant": "no-such-tenant"})
    assert frame.headers["content-security-policy"] == "frame-ancestors 'self' https://shop.example.com"
    assert nobody.headers["content-security-policy"] == "frame-ancestors 'self'"


async def test_a_jwt_with_an_agent_claim_is_an_end_user_credential(chat_platform: ChatPlatform) -> None:
    key = await chat_platform.new_tenant()
    agent = await chat_platform.new_agent(key)
    async with httpx.AsyncClient(timeout=10) as http:
        tenant_id = (
            await http.get(f"{chat_platform.url('agent_management_service')}/api/v1/tenants/me", headers=auth(key))
        ).json()["id"]
    claims = {"tenant_id": tenant_id, "sub": f"idp-user-{uuid.uuid4().hex[:6]}", "exp": int(time.time()) + 300}
    token = jwt.encode({**claims, "agent_id": agent}, PLATFORM_JWT_SECRET, "HS256")
    response = await open_session(chat_platform, token, agent)
    assert response.status_code == 201, response.text
    async with chat(response.json(), token) as client:
        await client.until("session_ready")
        assert (await client.turn("hello"))[-1]["type"] == "message_end"
    listed = await get(chat_platform, "conversation_service", f"/api/v1/conversations?end_user_id={claims['sub']}", key)
    assert len(listed.json()["items"]) == 1
    assert (await get(chat_platform, "agent_management_service", "/api/v1/agents", token)).status_code == 403
    # the tenant's own JWT (no agent claim) stays tenant-wide, and records its `sub` as the end user
    tenant_wide = jwt.encode(claims, PLATFORM_JWT_SECRET, "HS256")
    assert (await get(chat_platform, "agent_management_service", "/api/v1/agents", tenant_wide)).status_code == 200


async def test_api_keys_narrower_than_the_tenant_and_keys_that_expire(chat_platform: ChatPlatform) -> None:
    key = await chat_platform.new_tenant()
    agent = await chat_platform.new_agent(key)
    management = chat_platform.url("agent_management_service")
    async with httpx.AsyncClient(timeout=10) as http:

        async def new_key(**body: Any) -> dict[str, Any]:
            response = await http.post(f"{management}/api/v1/tenants/me/keys", json=body, headers=auth(key))
            assert response.status_code == 201, response.text
            return dict(response.json())

        read = (await new_key(name="dashboard", scopes=["read"]))["api_key"]
        chatting = (await new_key(name="site backend", scopes=["chat"]))["api_key"]
        assert (await http.get(f"{management}/api/v1/agents", headers=auth(read))).status_code == 200
        denied = await http.post(f"{management}/api/v1/agents", json={"name": "x"}, headers=auth(read))
        assert denied.status_code == 403 and denied.json()["error"]["error_code"] == "scope_not_allowed"
        assert (await open_session(chat_platform, read, agent)).status_code == 403
        opened = await open_session(chat_platform, chatting, agent)
        assert opened.status_code == 201
        closing = f"{chat_platform.orchestrator}/api/v1/chat/sessions/{opened.json()['session_id']}"
        assert (await http.get(closing, headers=auth(read))).status_code == 200  # reading is what `read` does
        assert (await http.delete(closing, headers=auth(read))).status_code == 403
        assert (await http.get(f"{management}/api/v1/agents", headers=auth(chatting))).status_code == 403

        ending = await new_key(name="contractor", expires_in_days=1)
        assert ending["expires_at"] is not None and ending["scopes"] == ["admin"]
        assert (await http.get(f"{management}/api/v1/agents", headers=auth(ending["api_key"]))).status_code == 200
        listed = (await http.get(f"{management}/api/v1/tenants/me/keys", headers=auth(key))).json()
        assert {k["name"]: k["scopes"] for k in listed}["dashboard"] == ["read"]
        bad: dict[str, Any]
        for bad in ({"scopes": []}, {"scopes": ["root"]}, {"expires_in_days": 0}):
            response = await http.post(f"{management}/api/v1/tenants/me/keys", json=bad, headers=auth(key))
            assert response.status_code == 422, bad
    await chat_platform.expire("api_keys", ending["id"])  # as if its lifetime had passed
    # (a resolution cached while the key was live lasts until the key's own expiry: here it is dropped)
    redis = Redis.from_url(chat_platform.env["NOOBLE4_REDIS_URL"])
    try:
        queues = QueueManager(chat_platform.settings.environment)
        await redis.delete(api_key_cache_key(queues, hash_api_key(ending["api_key"])))
    finally:
        await redis.aclose()
    async with httpx.AsyncClient(timeout=10) as http:
        expired = await http.get(f"{management}/api/v1/agents", headers=auth(ending["api_key"]))
    assert expired.status_code == 401 and expired.json()["error"]["error_code"] == "api_key_expired"
