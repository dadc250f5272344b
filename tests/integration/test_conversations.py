"""conversation_service: idempotent saves, history windows, REST, and tenant isolation."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from agent_management_service.app import SPEC as MANAGEMENT
from common.clients import BaseRedisClient
from common.models.tiers import Tier
from conversation_service.app import SPEC as CONVERSATION
from tests.integration.test_management import new_tenant
from tests.support.helpers import eventually
from tests.support.services import running


@pytest.fixture
async def api(migrated) -> AsyncIterator:
    async with running(MANAGEMENT, migrated), running(CONVERSATION, migrated) as http:
        yield http


@pytest.fixture
def client(redis, migrated) -> BaseRedisClient:
    return BaseRedisClient(redis, migrated, origin_service="execution")


def save(client: BaseRedisClient, tenant_id: str, conversation_id: str, role: str, content: str, **extra):
    return client.new_action(
        "conversation.message.save",
        tenant_id=tenant_id,
        tenant_tier=Tier.PROFESSIONAL,
        agent_id="agent-1",
        session_id="s-1",
        data={"conversation_id": conversation_id, "role": role, "content": content, **extra},
    )


async def history(client: BaseRedisClient, tenant_id: str, conversation_id: str, **limits) -> dict:
    action = client.new_action(
        "conversation.history.get", tenant_id=tenant_id, data={"conversation_id": conversation_id, **limits}
    )
    return await client.call_action(action, timeout=10)


async def test_redelivered_save_stores_one_message(api, client) -> None:
    tenant_id = "tenant-x"
    action = save(client, tenant_id, "c1", "user", "hola")
    for _ in range(3):  # at-least-once delivery: the same action arrives again
        await client.send_action_async(action)
    await client.call_action(  # fire-and-forget by design; awaited here only to know it was handled
        save(
            client,
            tenant_id,
            "c1",
            "assistant",
            "¡hola!",
            usage={"prompt_tokens": 7, "completion_tokens": 3, "total_tokens": 10},
        ),
        10,
    )
    await client.call_action(action, 10)  # a fourth delivery: still one message

    async def two_messages() -> bool:
        return len((await history(client, tenant_id, "c1"))["messages"]) == 2

    await eventually(two_messages, what="both messages stored")
    messages = (await history(client, tenant_id, "c1"))["messages"]
    assert [(m["role"], m["content"]) for m in messages] == [("user", "hola"), ("assistant", "¡hola!")]
    assert messages[1]["usage"]["total_tokens"] == 10


async def test_history_respects_both_limits_and_keeps_order(api, client) -> None:
    tenant_id = "tenant-h"
    for n in range(6):
        await client.call_action(
            save(client, tenant_id, "c2", "user" if n % 2 == 0 else "assistant", f"message {n} " * 10), 10
        )
    full = await history(client, tenant_id, "c2", max_messages=100, max_tokens=100_000)
    assert [m["content"].split()[1] for m in full["messages"]] == ["0", "1", "2", "3", "4", "5"]
    per_message = full["messages"][0]["tokens"]
    assert per_message > 0
    last_three = await history(client, tenant_id, "c2", max_messages=3, max_tokens=100_000)
    assert [m["content"].split()[1] for m in last_three["messages"]] == ["3", "4", "5"]
    by_tokens = await history(client, tenant_id, "c2", max_messages=100, max_tokens=2 * per_message)
    assert [m["content"].split()[1] for m in by_tokens["messages"]] == ["4", "5"]
    assert by_tokens["total_tokens"] <= 2 * per_message
    assert (await history(client, tenant_id, "nothing-here"))["messages"] == []


async def test_a_turn_is_saved_in_one_action_in_order_and_once(api, client) -> None:
    tenant_id = "tenant-turn"
    turn = {
        "conversation_id": "c-turn",
        "messages": [
            {"message_id": "task-1:user", "role": "user", "content": "¿Qué hora es?"},
            {
                "message_id": "task-1:assistant",
                "role": "assistant",
                "content": "Las tres.",
                "usage": {"prompt_tokens": 12, "completion_tokens": 4, "total_tokens": 16},
                "sources": [{"document_id": "d1"}],
            },
        ],
    }
    read = await history(client, tenant_id, "c-turn")  # the history the turn was answered from (empty)
    action = client.new_action("conversation.messages.save", tenant_id=tenant_id, agent_id="agent-1", data=turn)
    saved = await client.call_action(action, 10)
    assert saved["stored"] == 2
    assert saved["replaced_stamp"] == read["stamp"]  # nothing changed the conversation between read and save
    assert saved["stamp"] not in (None, read["stamp"])
    unchanged = {"stored": 0, "replaced_stamp": None, "stamp": None, "summary": None}
    assert await client.call_action(action, 10) == unchanged  # redelivered: nothing twice
    # the same turn re-run after a crash (a new action, the same message ids) adds nothing either
    again = client.new_action("conversation.messages.save", tenant_id=tenant_id, agent_id="agent-1", data=turn)
    assert await client.call_action(again, 10) == unchanged
    after = await history(client, tenant_id, "c-turn")
    assert after["stamp"] == saved["stamp"]  # saves that stored nothing leave the stamp
    messages = after["messages"]
    assert [(m["role"], m["content"]) for m in messages] == [("user", "¿Qué hora es?"), ("assistant", "Las tres.")]
    assert messages[1]["usage"]["total_tokens"] == 16 and messages[1]["sources"] == [{"document_id": "d1"}]


@pytest.mark.parametrize(
    "data",
    [
        {"conversation_id": "c", "messages": []},
        {"conversation_id": "c", "messages": [{"role": "user", "content": "no id"}]},
        {"conversation_id": "c", "messages": [{"message_id": "m", "role": "user", "content": "x\u0000"}] * 21},
        {
            "conversation_id": "c",
            "messages": [{"message_id": "m", "role": "user", "content": "x", "created_at": "2026-01-01T00:00:00"}],
        },
    ],
    ids=["empty", "no-message-id", "too-many", "bad-time"],
)
async def test_invalid_turn_save_is_rejected_with_a_typed_error(api, client, data) -> None:
    response = await client.send_action_pseudo_sync(
        client.new_action("conversation.messages.save", tenant_id="t", data=data), 10
    )
    assert response.error is not None and response.error.error_code == "invalid_payload"


async def test_invalid_save_is_rejected_with_a_typed_error(api, client) -> None:
    bad = client.new_action("conversation.message.save", tenant_id="t", data={"conversation_id": "c", "role": "robot"})
    response = await client.send_action_pseudo_sync(bad, 10)
    assert response.error is not None and response.error.error_code == "invalid_payload"


async def test_rest_list_get_export_stats_delete_and_close(api, client, migrated) -> None:
    tenant_id, auth = await new_tenant(migrated)
    for conversation_id in ("older", "newer"):
        await client.call_action(save(client, tenant_id, conversation_id, "user", f"question in {conversation_id}"), 10)
    await client.call_action(
        save(
            client,
            tenant_id,
            "newer",
            "assistant",
            "answer",
            usage={"prompt_tokens": 5, "completion_tokens": 2, "total_tokens": 7},
        ),
        10,
    )
    listed = (await api.get("/api/v1/conversations", headers=auth)).json()
    assert [c["id"] for c in listed["items"]] == ["newer", "older"] and listed["total"] == 2
    assert listed["items"][0]["title"] == "question in newer" and listed["items"][0]["message_count"] == 2
    assert (await api.get("/api/v1/conversations?agent_id=other", headers=auth)).json()["total"] == 0
    one = (await api.get("/api/v1/conversations/newer", headers=auth)).json()
    assert [m["role"] for m in one["messages"]] == ["user", "assistant"]
    export = await api.get("/api/v1/conversations/newer/export", headers=auth)
    assert "attachment" in export.headers["content-disposition"] and export.json()["id"] == "newer"
    stats = (await api.get("/api/v1/conversations/stats", headers=auth)).json()
    assert stats["conversations"] == 2 and stats["messages"] == 3 and stats["completion_tokens"] == 2
    await client.call_action(
        client.new_action("conversation.session.close", tenant_id=tenant_id, data={"session_id": "s-1"}), 10
    )
    for conversation_id in ("newer", "older"):  # both of the session's conversations
        assert (await api.get(f"/api/v1/conversations/{conversation_id}", headers=auth)).json()["closed_at"] is not None
    before_delete = (await history(client, tenant_id, "older"))["stamp"]
    assert (await api.delete("/api/v1/conversations/older", headers=auth)).status_code == 204
    assert (await api.get("/api/v1/conversations/older", headers=auth)).status_code == 404
    # a deleted conversation gets a new history stamp: no copy of its messages kept elsewhere stays current
    assert (await history(client, tenant_id, "older"))["stamp"] not in (None, before_delete)


async def test_tenant_isolation_of_conversations(api, client, migrated) -> None:
    tenant_a, auth_a = await new_tenant(migrated, name="A")
    _, auth_b = await new_tenant(migrated, name="B")
    await client.call_action(save(client, tenant_a, "secret", "user", "tenant A's private question"), 10)
    for method, url in [
        ("GET", "/api/v1/conversations/secret"),
        ("GET", "/api/v1/conversations/secret/export"),
        ("DELETE", "/api/v1/conversations/secret"),
    ]:
        assert (await api.request(method, url, headers=auth_b)).status_code == 404
    assert (await api.get("/api/v1/conversations", headers=auth_b)).json()["total"] == 0
    assert (await api.get("/api/v1/conversations/stats", headers=auth_b)).json()["messages"] == 0
    assert (await history(client, "someone-else", "secret"))["messages"] == []
    assert (await api.get("/api/v1/conversations/secret", headers=auth_a)).status_code == 200
