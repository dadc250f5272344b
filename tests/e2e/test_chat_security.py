"""Chat sockets under the security review's findings: revocation reaches open sockets, client-supplied values
that end up in headers or stream ids are validated."""

from __future__ import annotations

import asyncio

import httpx
import pytest
from websockets.exceptions import ConnectionClosed, InvalidStatus

from tests.support.platform import ChatPlatform, auth, chat


async def test_a_revoked_key_closes_its_open_socket_within_seconds(chat_platform: ChatPlatform) -> None:
    owner_key = await chat_platform.new_tenant()
    management = chat_platform.url("agent_management_service")
    async with httpx.AsyncClient(timeout=10, headers=auth(owner_key)) as http:
        second = (await http.post(f"{management}/api/v1/tenants/me/keys", json={"name": "device"})).json()
    session = await chat_platform.new_session(owner_key, await chat_platform.new_agent(owner_key))
    async with chat(session, second["api_key"]) as client:
        await client.until("session_ready")
        async with httpx.AsyncClient(timeout=10, headers=auth(owner_key)) as http:
            assert (await http.delete(f"{management}/api/v1/tenants/me/keys/{second['id']}")).status_code == 204
        with pytest.raises(ConnectionClosed) as closed:
            while True:  # the socket is closed by the server, not by this test
                await client.next(timeout=15)
    assert closed.value.rcvd is not None and closed.value.rcvd.code == 4401


async def test_values_bound_for_headers_and_stream_ids_are_validated(chat_platform: ChatPlatform) -> None:
    key = await chat_platform.new_tenant()
    agent = await chat_platform.new_agent(key)
    async with httpx.AsyncClient(timeout=10, headers=auth(key)) as http:
        for conversation_id in ('x"\r\nSet-Cookie: a=b', "a b", "x" * 65):
            response = await http.post(
                f"{chat_platform.orchestrator}/api/v1/chat/sessions",
                json={"agent_id": agent, "conversation_id": conversation_id},
            )
            assert response.status_code == 422, conversation_id
    session = await chat_platform.new_session(key, agent)
    with pytest.raises((InvalidStatus, ConnectionClosed)):  # refused, not a socket whose reader died
        async with chat(session, key, last_seq=10**23) as client:
            await client.next(timeout=5)
    async with chat(session, key, last_seq=0) as client:  # the session itself is fine
        await client.send(type="ping")
        assert (await client.until("pong"))[-1]["type"] == "pong"


async def test_the_key_can_travel_in_a_first_auth_frame_instead_of_the_url(chat_platform: ChatPlatform) -> None:
    import json

    from websockets.asyncio.client import connect

    key = await chat_platform.new_tenant()
    session = await chat_platform.new_session(key, await chat_platform.new_agent(key))
    async with connect(session["ws_url"], open_timeout=10) as ws:  # no token in the URL
        await ws.send(json.dumps({"type": "auth", "token": key}))
        assert json.loads(await asyncio.wait_for(ws.recv(), 10))["type"] == "session_ready"
    async with connect(session["ws_url"], open_timeout=10) as ws:
        await ws.send(json.dumps({"type": "auth", "token": "nk_not-a-valid-key-at-all-here"}))
        with pytest.raises(ConnectionClosed) as closed:
            await asyncio.wait_for(ws.recv(), 10)
    assert closed.value.rcvd is not None and closed.value.rcvd.code == 4401
