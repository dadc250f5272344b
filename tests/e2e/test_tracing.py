"""OpenTelemetry traces across the Redis bus, on the shared platform (its services export OTLP to a receiver
the test session runs): one chat turn with retrieval is ONE trace from the orchestrator to the embedding
service, parent links intact across every hop; log lines carry the trace and span ids; an HTTP request
continues its caller's `traceparent`."""

from __future__ import annotations

import json
import secrets

import httpx

from tests.support.helpers import eventually
from tests.support.otlp_receiver import OtlpReceiver
from tests.support.platform import ChatPlatform, Knowledge, auth, chat

FACT = b"The lighthouse museum opens at 10:00 and closes at 16:30 every day except Monday.\n"


async def test_a_chat_turn_with_retrieval_is_one_trace_across_every_service(
    chat_platform: ChatPlatform, otlp_receiver: OtlpReceiver
) -> None:
    key = await chat_platform.new_tenant()
    async with Knowledge(chat_platform, key) as kb:
        collection = await kb.collection("museum")
        assert (await kb.ingested(collection, "hours.txt", FACT))["status"] == "done"
    agent = await chat_platform.new_agent(key, collection_ids=[collection], name="Guide")
    session = await chat_platform.new_session(key, agent)
    async with chat(session, key) as client:
        await client.until("session_ready")
        events = await client.turn("When does the lighthouse museum open?")
    assert events[-1]["type"] == "message_end" and "10:00" in events[-1]["content"]
    task_id = events[-1]["task_id"]

    async def whole_trace() -> list[dict] | None:
        runs = [s for s in otlp_receiver.find("execution.chat.run") if _task_of(s, chat_platform, task_id)]
        if not runs:
            return None
        spans = otlp_receiver.trace(runs[0]["trace_id"])
        names = {s["name"] for s in spans}
        wanted = {"chat.turn", "execution.chat.run", "query.search", "embedding.generate", "llm.chat", "retrieval"}
        saved = {"conversation.history.get", "conversation.messages.save"} <= names
        ids = {s["span_id"] for s in spans}
        linked = all(s["parent_id"] in ids for s in spans if s["name"] != "chat.turn")  # every parent exported
        return spans if wanted <= names and saved and linked else None

    spans = await eventually(whole_trace, timeout=20, what="the turn's whole trace, every parent link intact")
    [root] = [s for s in spans if s["parent_id"] is None]
    assert root["name"] == "chat.turn" and root["service"] == "agent_orchestrator_service"
    ids = {s["span_id"] for s in spans}
    assert all(s["parent_id"] in ids for s in spans if s is not root)  # no broken link at any hop
    services = {s["service"] for s in spans}
    assert {
        "agent_orchestrator_service",
        "agent_execution_service",
        "conversation_service",
        "query_service",
        "embedding_service",
    } <= services
    by_id = {s["span_id"]: s for s in spans}
    [embedding] = [s for s in spans if s["name"] == "embedding.generate"][:1]
    chain = _ancestors(embedding, by_id)  # embedding <- query <- retrieval <- execution <- chat.turn
    assert [s["name"] for s in chain][-1] == "chat.turn" and "query.search" in [s["name"] for s in chain]
    run = next(s for s in spans if s["name"] == "execution.chat.run")
    attributes = run["attributes"]
    assert attributes["nooble4.tier"] == "enterprise" and attributes["nooble4.attempt"] == 1
    assert attributes["nooble4.outcome"] == "success" and attributes["nooble4.tenant_id"]
    assert any(s["service"] == "query_service" and s["attributes"].get("db.system") for s in spans)  # SQL spans

    log = chat_platform.home / "n4" / "logs" / "agent_execution_service.log"
    lines = [json.loads(line) for line in log.read_text().splitlines() if task_id in line and line.startswith("{")]
    finished = [line for line in lines if line.get("event") == "turn_finished"]
    assert finished and finished[0]["trace_id"] == run["trace_id"] and finished[0]["span_id"] == run["span_id"]


async def test_an_http_request_continues_its_callers_trace(
    chat_platform: ChatPlatform, otlp_receiver: OtlpReceiver
) -> None:
    key = await chat_platform.new_tenant()
    trace_id, parent_id = secrets.token_hex(16), secrets.token_hex(8)
    headers = auth(key) | {"traceparent": f"00-{trace_id}-{parent_id}-01"}
    async with httpx.AsyncClient(timeout=10) as http:
        response = await http.get(f"{chat_platform.url('agent_management_service')}/api/v1/agents", headers=headers)
    assert response.status_code == 200

    async def continued() -> list[dict] | None:
        return otlp_receiver.trace(trace_id) or None

    spans = await eventually(continued, what="the request's span exported")
    assert any(s["parent_id"] == parent_id and s["service"] == "agent_management_service" for s in spans)


def _task_of(span: dict, platform: ChatPlatform, task_id: str) -> bool:
    """Whether an `execution.chat.run` span is this task's (by its trace's chat.turn and the log)."""
    log = platform.home / "n4" / "logs" / "agent_execution_service.log"
    return any(task_id in line and span["trace_id"] in line for line in log.read_text().splitlines())


def _ancestors(span: dict, by_id: dict[str, dict]) -> list[dict]:
    chain = [span]
    while chain[-1]["parent_id"] is not None:
        chain.append(by_id[chain[-1]["parent_id"]])
    return chain
