"""Token budgets and the usage ledger on the real platform: turns refused atomically at the budget, the ledger's
totals equal to what the turns reported, the API, the CSV export, and tenant isolation."""

from __future__ import annotations

import asyncio
import csv
import io
from typing import Any

import httpx

from tests.support.helpers import eventually
from tests.support.platform import ChatPlatform, auth, chat

MANAGEMENT = "agent_management_service"


async def one_turn(
    platform: ChatPlatform, key: str, agent_id: str, content: str, ready: list[str], go: asyncio.Event
) -> dict[str, Any]:
    """A session with the agent, its socket open (then listed in `ready`), one message sent when `go` is set:
    the turn's terminal event."""
    session = await platform.new_session(key, agent_id)
    async with chat(session, key) as client:
        await client.until("session_ready")
        ready.append(session["session_id"])
        await go.wait()
        events = await client.turn(content)
    return events[-1]


async def api(platform: ChatPlatform, key: str, method: str, path: str, **kwargs: Any) -> httpx.Response:
    async with httpx.AsyncClient(timeout=15) as http:
        return await http.request(method, f"{platform.url(MANAGEMENT)}{path}", headers=auth(key), **kwargs)


async def test_twenty_turns_at_once_against_a_budget_for_ten_start_exactly_ten_and_the_ledger_adds_up(
    chat_platform: ChatPlatform,
) -> None:
    """Each turn holds its model's max_tokens (500) while it runs; a day budget of 5,000 holds ten. The turns
    ("long story", ~4 s each) all ask before any ends."""
    key = await chat_platform.new_tenant()
    agent = await chat_platform.new_agent(
        key, model={"max_tokens": 500}, budget={"tokens_per_day": 5_000}, name="Storyteller"
    )
    go = asyncio.Event()
    ready: list[str] = []
    story = "tell me a long story"
    turns = [asyncio.create_task(one_turn(chat_platform, key, agent, story, ready, go)) for _ in range(20)]
    await eventually(lambda: _all_ready(turns, ready), what="20 sockets open")
    go.set()
    ends = await asyncio.gather(*turns)

    answered = [e for e in ends if e["type"] == "message_end"]
    refused = [e for e in ends if e["type"] == "error"]
    assert len(answered) == 10 and len(refused) == 10, [e.get("code") for e in ends]
    assert {e["code"] for e in refused} == {"quota_exceeded"} and {e["budget"] for e in refused} == {"agent_day"}
    assert all(e["resets_at"] and e["retry_after"] > 0 for e in refused)
    used = sum(e["usage"]["prompt_tokens"] + e["usage"]["completion_tokens"] for e in answered)
    assert used > 0

    async def ledger_total() -> dict[str, Any] | None:
        report = (await api(chat_platform, key, "GET", "/api/v1/usage", params={"agent_id": agent})).json()
        return report if report["totals"]["events"] == 10 else None

    report = await eventually(ledger_total, what="ten ledger entries")
    assert report["totals"]["total_tokens"] == used
    assert sum(day["total_tokens"] for day in report["days"]) == used
    assert [g["key"] for g in report["by_kind"]] == ["chat"] and report["by_model"][0]["total_tokens"] == used

    budgets = (await api(chat_platform, key, "GET", "/api/v1/budgets")).json()
    [agent_day] = [b for b in budgets if b["agent_id"] == agent and b["period"] == "day"]
    assert agent_day["limit"] == 5_000 and agent_day["spent"] == used and agent_day["held"] == 0
    # the scripted story is ~800 tokens, past its 500 reserved: the turns that started finish, the overrun shows
    assert agent_day["left"] == max(0, 5_000 - used)

    exported = await api(chat_platform, key, "GET", "/api/v1/usage/export.csv", params={"agent_id": agent})
    assert exported.status_code == 200 and exported.headers["content-type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(exported.text)))
    assert len(rows) == 10 and sum(int(r["total_tokens"]) for r in rows) == used
    assert {r["kind"] for r in rows} == {"chat"} and all(r["conversation_id"] and r["task_id"] for r in rows)


async def _all_ready(turns: list[asyncio.Task[Any]], ready: list[str]) -> bool:
    for task in turns:
        if task.done():
            task.result()  # a turn that ended before `go` failed: raise its error
    return len(ready) == len(turns)


async def test_a_tenant_budget_set_lower_applies_to_the_next_turn_and_usage_stays_with_its_tenant(
    chat_platform: ChatPlatform,
) -> None:
    key = await chat_platform.new_tenant(tier="professional")
    other = await chat_platform.new_tenant(tier="professional")
    agent = await chat_platform.new_agent(key, name="Helper")
    session = await chat_platform.new_session(key, agent)
    async with chat(session, key) as client:
        await client.until("session_ready")
        first = (await client.turn("hello there"))[-1]
        assert first["type"] == "message_end"

        response = await api(chat_platform, key, "PUT", "/api/v1/tenants/me/budget", json={"tokens_per_day": 100})
        assert response.status_code == 200, response.text
        assert response.json()["tokens_per_day"] == 100 and response.json()["tokens_per_month"] == 200_000_000
        raised = await api(chat_platform, key, "PUT", "/api/v1/tenants/me/budget", json={"tokens_per_day": 10**15})
        assert raised.status_code == 422  # out of range, never a 500

        refused = (await client.turn("hello again"))[-1]
        assert refused["code"] == "quota_exceeded" and refused["budget"] == "tenant_day"

    budgets = (await api(chat_platform, key, "GET", "/api/v1/budgets")).json()
    [tenant_day] = [b for b in budgets if b["scope"] == "tenant" and b["period"] == "day"]
    assert tenant_day["limit"] == 100 and tenant_day["spent"] > 0

    async def recorded() -> int | None:
        report = (await api(chat_platform, key, "GET", "/api/v1/usage", params={"kind": "chat"})).json()
        return report["totals"]["events"] or None

    assert await eventually(recorded, what="the first turn in the ledger") == 1
    everything = (await api(chat_platform, key, "GET", "/api/v1/usage")).json()
    kinds = {g["key"] for g in everything["by_kind"]}
    assert "chat" in kinds and kinds <= {"chat", "embedding"}  # embedding: the turn's messages indexed for recall
    theirs = (await api(chat_platform, other, "GET", "/api/v1/usage")).json()
    assert theirs["totals"]["events"] == 0 and theirs["by_agent"] == []
    foreign = (await api(chat_platform, other, "GET", "/api/v1/usage", params={"agent_id": agent})).json()
    assert foreign["totals"]["total_tokens"] == 0

    bad = await api(chat_platform, key, "GET", "/api/v1/usage", params={"since": "2026-12-07", "until": "2026-01-01"})
    assert bad.status_code == 422 and bad.json()["error"]["error_code"] == "invalid_period"
