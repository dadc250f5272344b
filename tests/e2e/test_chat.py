"""Live chat end to end: launcher-started services, WebSocket clients, the scripted model (DESIGN.md §6)."""

from __future__ import annotations

import asyncio
import contextlib
import json

import httpx
import pytest
from redis.asyncio import Redis
from websockets.exceptions import ConnectionClosed

from common.messaging.codec import ACTION_FIELD, decode_action
from common.messaging.queue_manager import QueueManager
from common.models import DomainAction
from common.stamps import agent_stamp_key, history_stamp_key
from tests.support.helpers import eventually
from tests.support.platform import REPLICA_MAX_SOCKETS, ChatPlatform, auth, chat


def seqs(events: list[dict]) -> list[int]:
    return [e["seq"] for e in events]


async def test_a_turn_streams_start_tokens_end_in_seq_order(chat_platform: ChatPlatform) -> None:
    key = await chat_platform.new_tenant()
    session = await chat_platform.new_session(key, await chat_platform.new_agent(key))
    async with chat(session, key) as client:
        ready = await client.next()
        assert ready["type"] == "session_ready" and ready["conversation_id"] == session["conversation_id"]
        events = await client.turn("hello there")
    types = [e["type"] for e in events]
    assert types[0] == "message_start" and types[-1] == "message_end"
    assert set(types[1:-1]) == {"token"}
    assert seqs([ready, *events]) == list(range(1, len(events) + 2))
    end = events[-1]
    assert end["content"] == "".join(e["delta"] for e in events if e["type"] == "token") == "You said: hello there."
    assert end["task_id"] == events[0]["task_id"] and end["usage"]["total_tokens"] > 0 and not end["cancelled"]


async def test_the_second_turn_sees_the_first_and_both_are_saved(chat_platform: ChatPlatform) -> None:
    key = await chat_platform.new_tenant()
    session = await chat_platform.new_session(key, await chat_platform.new_agent(key))
    async with chat(session, key) as client:
        await client.until("session_ready")
        await client.turn("my name is Ada")
        second = await client.turn("what did I say?")
    assert second[-1]["content"] == "You said: what did I say?. Earlier you said: my name is Ada"
    conversation = f"{chat_platform.url('conversation_service')}/api/v1/conversations/{session['conversation_id']}"
    async with httpx.AsyncClient(timeout=10) as http:

        async def saved() -> list:
            response = await http.get(conversation, headers=auth(key))
            return response.json()["messages"] if response.status_code == 200 else []

        from tests.support.helpers import eventually

        messages = await eventually(lambda: _when(saved, 4), what="four saved messages")
    assert [(m["role"], m["content"]) for m in messages] == [
        ("user", "my name is Ada"),
        ("assistant", "You said: my name is Ada."),
        ("user", "what did I say?"),
        ("assistant", second[-1]["content"]),
    ]


async def test_the_next_turn_reuses_the_config_and_history_it_kept_until_they_change(
    chat_platform: ChatPlatform,
) -> None:
    key = await chat_platform.new_tenant()
    agent_id = await chat_platform.new_agent(key)
    session = await chat_platform.new_session(key, agent_id)
    queues = QueueManager(chat_platform.settings.environment)
    streams = [queues.action_stream(domain, "enterprise") for domain in ("management", "conversation")]
    redis = Redis.from_url(chat_platform.env["NOOBLE4_REDIS_URL"], decode_responses=True)
    conversation = f"{chat_platform.url('conversation_service')}/api/v1/conversations/{session['conversation_id']}"
    agent = f"{chat_platform.url('agent_management_service')}/api/v1/agents/{agent_id}"

    async def mine(stream: str) -> list[str]:
        """This session's actions in `stream`, oldest first (the shared platform's other tenants also send)."""
        actions = [decode_action(fields[ACTION_FIELD], 10**6) for _, fields in await redis.xrange(stream)]
        return [a.action_type for a in actions if a.session_id == session["session_id"]]

    async def sent() -> list[int]:
        return [len(await mine(stream)) for stream in streams]

    async def stamps() -> dict[str, str | None]:
        """The agent's and conversation's stamps now."""
        tenant_id = (await run_action()).tenant_id
        return {
            "agent": await redis.get(agent_stamp_key(queues, tenant_id, agent_id)),
            "history": await redis.get(history_stamp_key(queues, tenant_id, session["conversation_id"])),
        }

    async def run_action() -> DomainAction:
        """The session's last turn's `execution.chat.run`."""
        entries = await redis.xrevrange(queues.action_stream("execution", "enterprise"), count=200)
        actions = [
            decode_action(fields[ACTION_FIELD], chat_platform.settings.max_message_bytes) for _, fields in entries
        ]
        return next(
            a for a in actions if a.session_id == session["session_id"] and a.action_type == "execution.chat.run"
        )

    try:
        async with chat(session, key) as client, httpx.AsyncClient(timeout=10) as http:
            await client.until("session_ready")
            await client.turn("my name is Ada")

            async def settled() -> bool:
                """The first turn's usage record is in (sent just before its last event)."""
                return (await mine(streams[0]))[-1:] == ["management.usage.record"]

            await eventually(settled, what="the first turn's usage record sent")
            before, stamps_before = await sent(), await stamps()
            second = await client.turn("what did I say?")
            # the second turn asked the management service nothing (it only got the turn's usage record) and
            # sent the conversation service one action (its save; nothing left the window, so nothing is
            # embedded for recall): config and history were the kept copies, checked against the stamps the
            # orchestrator read as the turn started and sent with it
            expected = [before[0] + 1, before[1] + 1]

            async def all_sent() -> bool:
                return await sent() == expected

            await eventually(all_sent, what="the turn's usage record and save sent")
            assert (await mine(streams[0]))[-1:] == ["management.usage.record"]
            assert (await mine(streams[1]))[-1:] == ["conversation.messages.save"]
            run = await run_action()
            assert run.task_id == second[0]["task_id"] and run.data["stamps"] == stamps_before
            assert second[-1]["content"] == "You said: what did I say?. Earlier you said: my name is Ada"
            assert (await http.delete(conversation, headers=auth(key))).status_code == 204
            third = await client.turn("and now?")
            # deleted: the kept history is no longer trusted, nothing deleted comes back (nor in any token)
            assert third[-1]["content"] == "You said: and now?."
            assert "".join(e["delta"] for e in third if e["type"] == "token") == third[-1]["content"]
            assert (await http.patch(agent, json={"is_active": False}, headers=auth(key))).status_code == 200
            refused = await client.turn("still there?")
            # edited: the kept config is no longer trusted, the deactivation applies at the next turn
            assert [e["type"] for e in refused] == ["message_start", "error"]
            assert refused[-1]["code"] == "agent_inactive"
    finally:
        await redis.aclose()


async def _when(fetch, count: int) -> list | None:
    items = await fetch()
    return items if len(items) >= count else None


async def test_tool_calls_show_as_tool_call_and_tool_result(chat_platform: ChatPlatform) -> None:
    key = await chat_platform.new_tenant()
    session = await chat_platform.new_session(key, await chat_platform.new_agent(key, tools=["calculator"]))
    async with chat(session, key) as client:
        await client.until("session_ready")
        events = await client.turn("what is (6 + 1) * 6?")
    by_type = {e["type"]: e for e in events}
    assert by_type["tool_call"]["name"] == "calculator"
    assert by_type["tool_call"]["args"] == {"expression": "(6 + 1) * 6"}
    assert by_type["tool_result"] == {**by_type["tool_result"], "name": "calculator", "summary": "42"}
    order = [e["type"] for e in events]
    assert order.index("tool_call") < order.index("tool_result") < order.index("message_end")
    assert events[-1]["content"] == "The calculator tool says: 42"


async def test_cancel_stops_the_turn_with_a_cancelled_message_end(chat_platform: ChatPlatform) -> None:
    key = await chat_platform.new_tenant()
    session = await chat_platform.new_session(key, await chat_platform.new_agent(key))
    async with chat(session, key) as client:
        await client.until("session_ready")
        await client.send(type="message", content="tell me a long story")
        start = (await client.until("message_start"))[-1]
        await client.until("token")
        await client.send(type="cancel", task_id=start["task_id"])
        events = await client.until("message_end", "error")
        end = events[-1]
        assert end["type"] == "message_end" and end["cancelled"] is True
        assert 0 < len(end["content"].split()) < 400  # stopped partway through the 400-word story
        after = await client.turn("still there?")  # the session goes on
    assert after[-1]["type"] == "message_end" and not after[-1]["cancelled"]


async def test_reconnect_on_another_replica_with_last_seq_resumes_without_gaps_or_duplicates(
    chat_platform: ChatPlatform,
) -> None:
    key = await chat_platform.new_tenant()
    session = await chat_platform.new_session(key, await chat_platform.new_agent(key))
    async with chat(session, key) as first:
        await first.until("session_ready")
        await first.send(type="message", content="tell me a long story")
        seen = await first.until("token")
    last_seq = seen[-1]["seq"]  # the socket dropped mid-answer
    replica_ws = chat_platform.replica.replace("http", "ws")
    async with chat(session, key, base_ws=replica_ws, last_seq=last_seq) as second:
        rest = await second.until("message_end", timeout=30)
    assert seqs(rest) == list(range(last_seq + 1, last_seq + 1 + len(rest)))
    words = "".join(e.get("delta", "") for e in [*seen, *rest] if e["type"] == "token")
    assert words == rest[-1]["content"] and len(words.split()) == 400


async def test_two_orchestrator_replicas_serve_sessions_side_by_side(chat_platform: ChatPlatform) -> None:
    key = await chat_platform.new_tenant()
    agent = await chat_platform.new_agent(key)

    async def conversation(base: str, text: str) -> list[dict]:
        session = await chat_platform.new_session(key, agent, base=base)
        assert session["ws_url"].startswith(base.replace("http", "ws"))
        async with chat(session, key) as client:
            await client.until("session_ready")
            return [await client.turn(f"{text} {i}") for i in range(3)]

    on_a, on_b = await asyncio.gather(
        conversation(chat_platform.orchestrator, "via A"), conversation(chat_platform.replica, "via B")
    )
    assert [turn[-1]["content"].split(".")[0] for turn in on_a] == [f"You said: via A {i}" for i in range(3)]
    assert [turn[-1]["content"].split(".")[0] for turn in on_b] == [f"You said: via B {i}" for i in range(3)]


async def test_bad_frames_get_error_events_and_the_socket_stays_usable(chat_platform: ChatPlatform) -> None:
    key = await chat_platform.new_tenant()
    session = await chat_platform.new_session(key, await chat_platform.new_agent(key))
    async with chat(session, key) as client:
        await client.until("session_ready")
        cases = [
            ("{not json", "invalid_json"),
            (json.dumps(["a", "list"]), "unknown_frame_type"),
            (json.dumps({"type": "shout"}), "unknown_frame_type"),
            (json.dumps({"type": "message"}), "invalid_frame"),
            (json.dumps({"type": "message", "content": "x" * 40_000}), "message_too_long"),  # said in words
            (json.dumps({"type": "message", "content": "x" * 100_000}), "message_too_long"),
            (json.dumps({"type": "ping", "pad": "x" * 70_000}), "frame_too_large"),
            (json.dumps({"type": "cancel", "task_id": "no-such-task"}), "no_such_turn"),
        ]
        for raw, code in cases:
            await client.send_raw(raw)
            error = await client.next()
            assert (error["type"], error["code"]) == ("error", code), raw[:40]
            if code == "message_too_long":  # the limit in the user's terms, no validator jargon
                assert "32,000" in error["message"] and "String should" not in error["message"]
        await client.send(type="message", content="tell me a long story")
        start = (await client.until("message_start"))[-1]
        await client.send(type="message", content="and another")  # a second message while a turn runs
        busy = await client.until("error", timeout=30)
        assert busy[-1]["code"] == "turn_in_progress" and busy[-1]["task_id"] == start["task_id"]
        await client.send(type="cancel", task_id=start["task_id"])
        await client.until("message_end")
        await client.send(type="ping")
        assert (await client.until("pong"))[-1]["type"] == "pong"
        assert (await client.turn("fine now"))[-1]["content"].startswith("You said: fine now.")


async def test_free_tier_rate_limit_gives_rate_limited_with_retry_after(chat_platform: ChatPlatform) -> None:
    key = await chat_platform.new_tenant("free")  # 10 requests per minute
    session = await chat_platform.new_session(key, await chat_platform.new_agent(key))
    async with chat(session, key) as client:
        await client.until("session_ready")
        for i in range(8):
            assert (await client.turn(f"message {i}"))[-1]["type"] == "message_end"
        await client.send(type="message", content="tell me a long story")  # the 9th request
        start = (await client.until("message_start"))[-1]
        await client.send(type="message", content="and another")  # refused while a turn runs: spends nothing
        busy = await client.until("error", timeout=30)
        assert busy[-1]["code"] == "turn_in_progress" and busy[-1]["task_id"] == start["task_id"]
        await client.send(type="cancel", task_id=start["task_id"])
        await client.until("message_end")
        assert (await client.turn("the 10th"))[-1]["type"] == "message_end"
        refused = await client.turn("one too many")
        assert refused == [refused[-1]]  # no message_start: the turn never began
        assert refused[-1]["code"] == "rate_limited" and 0 < refused[-1]["retry_after"] <= 60
        await client.send(type="ping")
        assert (await client.next())["type"] == "pong"


async def test_sockets_and_sessions_are_tenant_scoped(chat_platform: ChatPlatform) -> None:
    key_a, key_b = await chat_platform.new_tenant(), await chat_platform.new_tenant()
    agent_a = await chat_platform.new_agent(key_a)
    session_a = await chat_platform.new_session(key_a, agent_a)
    async with httpx.AsyncClient(timeout=10) as http:
        base = chat_platform.orchestrator
        foreign = await http.post(f"{base}/api/v1/chat/sessions", json={"agent_id": agent_a}, headers=auth(key_b))
        assert foreign.status_code == 404
        peek = await http.get(f"{base}/api/v1/chat/sessions/{session_a['session_id']}", headers=auth(key_b))
        assert peek.status_code == 404
        assert (await http.get(f"{base}/api/v1/chat/agents", headers=auth(key_b))).json()["items"] == []
        agent_url = f"{chat_platform.url('agent_management_service')}/api/v1/agents/{agent_a}"
        assert (await http.patch(agent_url, json={"is_active": False}, headers=auth(key_a))).status_code == 200
        inactive = await http.post(f"{base}/api/v1/chat/sessions", json={"agent_id": agent_a}, headers=auth(key_a))
        assert inactive.status_code == 403 and inactive.json()["error"]["error_code"] == "agent_inactive"
    for token, code in ((key_b, 4404), ("nk_not-a-real-key", 4401)):
        async with chat(session_a, token) as client:
            with pytest.raises(ConnectionClosed) as closed:
                await client.next()
            assert closed.value.rcvd is not None and closed.value.rcvd.code == code


async def test_groq_agent_streams_through_the_real_client(chat_platform: ChatPlatform) -> None:
    key = await chat_platform.new_tenant("professional")
    agent = await chat_platform.new_agent(key, model={"provider": "groq", "name": "llama-test"})
    session = await chat_platform.new_session(key, agent)
    async with chat(session, key) as client:
        await client.until("session_ready")
        events = await client.turn("hi groq")
    assert events[-1]["content"] == "Hello from llama-test via /openai/v1/chat/completions: hi groq"
    assert sum(e["type"] == "token" for e in events) >= 1


async def test_a_failing_provider_ends_the_turn_with_a_clear_error(chat_platform: ChatPlatform) -> None:
    key = await chat_platform.new_tenant("professional")
    agent = await chat_platform.new_agent(key, model={"provider": "openai", "name": "fail-500"})
    session = await chat_platform.new_session(key, agent)
    async with chat(session, key) as client:
        await client.until("session_ready")
        events = await client.turn("hello?")
        assert events[-1]["type"] == "error" and events[-1]["code"] == "llm_error"
        assert events[-1]["task_id"] == events[0]["task_id"]
        await client.send(type="ping")  # the session is free again
        assert (await client.next())["type"] == "pong"
    conversation = f"{chat_platform.url('conversation_service')}/api/v1/conversations/{session['conversation_id']}"
    async with httpx.AsyncClient(timeout=10) as http:  # the question is kept, stored before the error was sent
        messages = (await http.get(conversation, headers=auth(key))).json()["messages"]
    assert [(m["role"], m["content"]) for m in messages] == [("user", "hello?")]


async def test_a_turn_past_its_timeout_ends_with_turn_timeout(chat_platform: ChatPlatform) -> None:
    key = await chat_platform.new_tenant()
    session = await chat_platform.new_session(key, await chat_platform.new_agent(key))
    async with chat(session, key) as client:
        await client.until("session_ready")
        events = await client.turn("think forever out loud about this")
        assert [e["type"] for e in events if e["type"] != "token"] == ["message_start", "error"]
        assert events[-1]["code"] == "turn_timeout" and events[-1]["task_id"] == events[0]["task_id"]
        streamed = "".join(e["delta"] for e in events if e["type"] == "token")
        assert streamed == "You said: think forever out loud about this."
        assert "kept" in events[-1]["message"]
        assert (await client.turn("and now?"))[-1]["type"] == "message_end"  # the session is free again
    conversation = f"{chat_platform.url('conversation_service')}/api/v1/conversations/{session['conversation_id']}"
    async with httpx.AsyncClient(timeout=10) as http:  # what streamed is kept, marked incomplete
        messages = (await http.get(conversation, headers=auth(key))).json()["messages"]
    assert [(m["role"], m["content"], m["incomplete"]) for m in messages[:2]] == [
        ("user", "think forever out loud about this", False),
        ("assistant", streamed, True),
    ]


async def test_a_full_replica_refuses_sockets_with_try_again_later(chat_platform: ChatPlatform) -> None:
    key = await chat_platform.new_tenant()
    session = await chat_platform.new_session(key, await chat_platform.new_agent(key))
    replica_ws = chat_platform.replica.replace("http", "ws")
    async with contextlib.AsyncExitStack() as stack:
        opened, refused = [], None
        for _ in range(REPLICA_MAX_SOCKETS + 2):  # earlier tests' sockets may still be releasing
            client = await stack.enter_async_context(chat(session, key, base_ws=replica_ws))
            try:
                await client.until("session_ready")
                opened.append(client)
            except ConnectionClosed as closed:
                refused = closed.rcvd
                break
        assert refused is not None and refused.code == 1013
        assert 1 <= len(opened) <= REPLICA_MAX_SOCKETS
        assert (await opened[0].turn("still served"))[-1]["type"] == "message_end"  # open ones keep working
