"""Signed webhooks on the real platform, with receivers the test runs: signatures checked with the Standard
Webhooks reference code, retries after failures (each try logged, one delivery once a 2xx comes), the events
the platform sends, the SSRF guard, and secrets never shown again."""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import httpx
import sqlalchemy as sa
from standardwebhooks import Webhook

from common.database import create_engine
from common.launcher.ports import free_port
from tests.support.helpers import eventually, serving
from tests.support.platform import ChatPlatform, Knowledge, auth, chat

MANAGEMENT = "agent_management_service"
RECEIVER_HOST = "127.0.0.2"  # the loopback address the test platform's operator allows (tests.support.platform)


class Receiver:
    """Records every request; answers the statuses in `answers` in turn, then 200."""

    def __init__(self, answers: list[int] | None = None):
        self.requests: list[tuple[dict[str, str], bytes]] = []
        self.answers = list(answers or [])
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                receiver.requests.append(({k.lower(): v for k, v in self.headers.items()}, body))
                self.send_response(receiver.answers.pop(0) if receiver.answers else 200)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer((RECEIVER_HOST, free_port()), Handler)
        self.url = f"http://{RECEIVER_HOST}:{self.server.server_address[1]}/hooks"

    @contextmanager
    def running(self) -> Iterator[Receiver]:
        with serving(self.server):
            yield self

    def events(self, secret: str) -> list[dict[str, Any]]:
        """Every request's event, each signature verified by the Standard Webhooks reference code."""
        return [Webhook(secret).verify(body, headers) for headers, body in self.requests]


async def api(platform: ChatPlatform, key: str, method: str, path: str, **kwargs: Any) -> httpx.Response:
    async with httpx.AsyncClient(timeout=15) as http:
        return await http.request(method, f"{platform.url(MANAGEMENT)}{path}", headers=auth(key), **kwargs)


async def register(platform: ChatPlatform, key: str, url: str, *events: str) -> dict[str, Any]:
    response = await api(platform, key, "POST", "/api/v1/webhooks", json={"url": url, "event_types": list(events)})
    assert response.status_code == 201, response.text
    return response.json()


async def test_a_failing_receiver_gets_the_event_again_until_it_answers_and_every_try_is_logged(
    chat_platform: ChatPlatform,
) -> None:
    key = await chat_platform.new_tenant()
    with Receiver(answers=[500, 500, 500]).running() as receiver:
        endpoint = await register(chat_platform, key, receiver.url, "webhook.test")
        assert endpoint["secret"].startswith("whsec_")
        sent = await api(chat_platform, key, "POST", f"/api/v1/webhooks/{endpoint['id']}/test")
        assert sent.status_code == 202

        async def delivered() -> list[dict[str, Any]] | None:
            log = (await api(chat_platform, key, "GET", f"/api/v1/webhooks/{endpoint['id']}/deliveries")).json()
            return log if log and log[0]["status"] == "delivered" else None

        [delivery] = await eventually(delivered, timeout=20, what="the test event delivered after three 500s")
        assert [a["status_code"] for a in delivery["log"]] == [500, 500, 500, 200] and delivery["attempts"] == 4
        assert len(receiver.requests) == 4  # delivered once more after the failures, then never again
        events = receiver.events(endpoint["secret"])  # raises if any signature does not verify
        assert {e["type"] for e in events} == {"webhook.test"} and events[0]["data"]["endpoint_id"] == endpoint["id"]
        assert {headers["webhook-id"] for headers, _ in receiver.requests} == {delivery["id"]}  # one id, every try
        tampered_headers, body = receiver.requests[-1]
        try:
            Webhook(endpoint["secret"]).verify(body + b" ", tampered_headers)
            raise AssertionError("a tampered body verified")
        except Exception as exc:
            assert "signature" in str(exc).lower()

    listed = (await api(chat_platform, key, "GET", "/api/v1/webhooks")).json()
    assert [e["id"] for e in listed] == [endpoint["id"]] and "secret" not in listed[0]
    assert endpoint["secret"] not in json.dumps(listed)


async def test_documents_and_turns_are_announced_to_the_tenants_endpoints_only(chat_platform: ChatPlatform) -> None:
    key = await chat_platform.new_tenant()
    other = await chat_platform.new_tenant()
    with Receiver().running() as mine, Receiver().running() as theirs:
        endpoint = await register(
            chat_platform, key, mine.url, "document.ready", "document.failed", "conversation.turn_completed"
        )
        await register(chat_platform, other, theirs.url, "document.ready", "conversation.turn_completed")
        async with Knowledge(chat_platform, key) as kb:
            collection = await kb.collection("handbook")
            ready = await kb.ingested(collection, "hours.txt", b"The office opens at nine.\n")
            failed = await kb.ingested(collection, "broken.pdf", b"%PDF-1.4 this is not really a PDF")
        assert ready["status"] == "done" and failed["status"] == "failed"
        agent = await chat_platform.new_agent(key, name="Helper")
        session = await chat_platform.new_session(key, agent)
        async with chat(session, key) as client:
            await client.until("session_ready")
            end = (await client.turn("hello"))[-1]

        async def three() -> list[dict[str, Any]] | None:
            events = mine.events(endpoint["secret"])
            return events if len(events) >= 3 else None

        events = {e["type"]: e["data"] for e in await eventually(three, what="three events delivered")}
        assert events["document.ready"]["document_id"] == ready["document_id"]
        assert events["document.failed"]["document_id"] == failed["document_id"] and events["document.failed"]["error"]
        assert events["conversation.turn_completed"]["task_id"] == end["task_id"]
        assert events["conversation.turn_completed"]["outcome"] == "ok"
        assert theirs.requests == []  # another tenant's endpoint hears nothing of this tenant


async def test_private_and_metadata_addresses_are_refused(chat_platform: ChatPlatform) -> None:
    key = await chat_platform.new_tenant()
    for url in (
        "http://127.0.0.1:9/hooks",
        "http://169.254.169.254/latest/meta-data",
        "http://10.0.0.1/x",
        "ftp://a.b/c",
    ):
        response = await api(
            chat_platform, key, "POST", "/api/v1/webhooks", json={"url": url, "event_types": ["webhook.test"]}
        )
        assert response.status_code == 422, (url, response.text)
        assert response.json()["error"]["error_code"] in {"url_not_allowed", "invalid_url", "invalid_request"}
    assert (await api(chat_platform, key, "GET", "/api/v1/webhooks")).json() == []


async def test_a_delivery_left_pending_with_nothing_to_try_it_is_sent_again(chat_platform: ChatPlatform) -> None:
    """As after a Redis that lost its data: a pending delivery whose action and retry are gone is found by the
    sweep and delivered (never stuck in progress)."""
    key = await chat_platform.new_tenant()
    with Receiver().running() as receiver:
        endpoint = await register(chat_platform, key, receiver.url, "webhook.test")
        tenant = (await api(chat_platform, key, "GET", "/api/v1/tenants/me")).json()["id"]
        engine = create_engine(chat_platform.settings)
        try:
            async with engine.begin() as conn:  # the row a dispatch writes, its action lost
                await conn.execute(
                    sa.text(
                        "INSERT INTO webhook_deliveries (id, tenant_id, endpoint_id, event_type, event_id, payload, "
                        "created_at) VALUES ('msg_stranded', :t, :e, 'webhook.test', 'stranded:1', "
                        "CAST(:p AS jsonb), now() - interval '1 hour')"
                    ),
                    {"t": tenant, "e": endpoint["id"], "p": json.dumps({"type": "webhook.test", "data": {"n": 1}})},
                )
        finally:
            await engine.dispose()

        async def delivered() -> list[dict[str, Any]] | None:
            log = (await api(chat_platform, key, "GET", f"/api/v1/webhooks/{endpoint['id']}/deliveries")).json()
            return log if log and log[0]["status"] == "delivered" else None

        [delivery] = await eventually(delivered, timeout=20, what="the stranded delivery sent again")
        assert delivery["id"] == "msg_stranded" and receiver.events(endpoint["secret"])[0]["data"] == {"n": 1}
