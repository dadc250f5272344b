"""The whole platform started by the launcher (`nooble4 up`), shared by the end-to-end and evaluation tests,
plus a second orchestrator replica.

The `local` provider is served by the scripted model; `openai` and `groq` agents reach the stand-in
OpenAI-compatible server. Everything runs on the test's Redis and database, in its own key prefix and schema.
"""

from __future__ import annotations

import asyncio
import json
import os
import secrets
import signal
import subprocess
import sys
import uuid
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
import sqlalchemy as sa
from websockets.asyncio.client import ClientConnection, connect

from common.database import create_engine
from common.launcher.ports import free_port
from common.launcher.services import SERVICE_PORTS, free_port_offset
from common.models.tiers import Tier
from common.settings import CommonSettings
from tests.support.helpers import eventually, wait_http
from tests.support.openai_standin import API_KEY
from tests.support.otlp_receiver import OtlpReceiver
from tests.support.services import drop_schema


@dataclass
class ChatPlatform:
    settings: CommonSettings
    offset: int
    replica_port: int
    env: dict[str, str]
    home: Path

    def start_replica(self) -> tuple[subprocess.Popen[bytes], str]:
        """One more orchestrator replica of this platform (the test owns it: it may kill it)."""
        port = free_port()
        log = (self.home / f"replica-{port}.log").open("wb")
        proc = subprocess.Popen(
            [sys.executable, "-m", "agent_orchestrator_service", "--port", str(port)],
            cwd=ROOT,
            env=self.env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        wait_http(f"http://127.0.0.1:{port}/ready", proc)
        return proc, f"http://127.0.0.1:{port}"

    def url(self, service: str) -> str:
        return f"http://127.0.0.1:{SERVICE_PORTS[service] + self.offset}"

    @property
    def orchestrator(self) -> str:
        return self.url("agent_orchestrator_service")

    @property
    def replica(self) -> str:
        return f"http://127.0.0.1:{self.replica_port}"

    async def new_tenant(self, tier: str = "enterprise") -> str:
        """A tenant of `tier`; returns its API key."""
        from agent_management_service.services.tenants import create_tenant

        engine = create_engine(self.settings)
        try:
            _, key = await create_tenant(engine, f"tenant-{uuid.uuid4().hex[:6]}", Tier(tier))
        finally:
            await engine.dispose()
        return key.api_key

    async def new_agent(self, api_key: str, **fields: Any) -> str:
        body = {"name": "Helper", "system_prompt": "You are a helpful assistant.", **fields}
        async with httpx.AsyncClient(timeout=10) as http:
            response = await http.post(
                f"{self.url('agent_management_service')}/api/v1/agents", json=body, headers=auth(api_key)
            )
        assert response.status_code == 201, response.text
        return response.json()["id"]

    async def end_user_token(self, api_key: str, agent_id: str, end_user_id: str, **fields: Any) -> dict[str, Any]:
        """What a tenant's backend does for one of its users: mint an end-user token."""
        body = {"agent_id": agent_id, "end_user_id": end_user_id, **fields}
        async with httpx.AsyncClient(timeout=10) as http:
            response = await http.post(
                f"{self.url('agent_management_service')}/api/v1/end-user-tokens", json=body, headers=auth(api_key)
            )
        assert response.status_code == 201, response.text
        return response.json()

    async def expire(self, table: str, row_id: str) -> None:
        """As if a credential's lifetime had passed: its `expires_at` (api_keys or end_user_tokens) set to the
        past, straight in the database."""
        assert table in ("api_keys", "end_user_tokens")
        engine = create_engine(self.settings)
        try:
            async with engine.begin() as conn:
                await conn.execute(
                    sa.text(f"UPDATE {table} SET expires_at = now() - interval '1 second' WHERE id = :id"),
                    {"id": row_id},
                )
        finally:
            await engine.dispose()

    async def new_session(self, api_key: str, agent_id: str, base: str | None = None) -> dict[str, Any]:
        async with httpx.AsyncClient(timeout=10) as http:
            response = await http.post(
                f"{base or self.orchestrator}/api/v1/chat/sessions", json={"agent_id": agent_id}, headers=auth(api_key)
            )
        assert response.status_code == 201, response.text
        return response.json()


ROOT = Path(__file__).resolve().parents[2]
REPLICA_MAX_SOCKETS = 3
PLATFORM_JWT_SECRET = secrets.token_hex(32)  # random per run


def auth(api_key: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {api_key}"}


class Knowledge:
    """REST helpers for collections, documents and retrieval of one tenant."""

    def __init__(self, platform: ChatPlatform, api_key: str):
        self.ingestion = platform.url("ingestion_service")
        self.query = platform.url("query_service")
        self.http = httpx.AsyncClient(timeout=30, headers=auth(api_key))

    async def __aenter__(self) -> Knowledge:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.http.aclose()

    async def collection(self, name: str = "docs", **fields: Any) -> str:
        response = await self.http.post(f"{self.ingestion}/api/v1/collections", json={"name": name, **fields})
        assert response.status_code == 201, response.text
        return response.json()["id"]

    async def upload(self, collection_id: str, filename: str, content: bytes) -> httpx.Response:
        return await self.http.post(
            f"{self.ingestion}/api/v1/documents",
            data={"collection_id": collection_id},
            files={"file": (filename, content)},
        )

    async def ingested(self, collection_id: str, filename: str, content: bytes) -> dict[str, Any]:
        """Upload and wait until its task has ended; the final task."""
        response = await self.upload(collection_id, filename, content)
        assert response.status_code == 202, response.text
        return await self.task_end(response.json()["task_id"])

    async def task_end(self, task_id: str, timeout: float = 60) -> dict[str, Any]:
        async def ended() -> dict[str, Any] | None:
            task = (await self.http.get(f"{self.ingestion}/api/v1/tasks/{task_id}")).json()
            return task if task["status"] in ("done", "failed") else None

        return await eventually(ended, timeout=timeout, what=f"task {task_id} ended")

    async def search(self, query: str, collection_ids: list[str], **fields: Any) -> httpx.Response:
        body = {"query": query, "collection_ids": collection_ids, **fields}
        return await self.http.post(f"{self.query}/api/v1/query/search", json=body)

    async def generate(self, query: str, collection_ids: list[str], **fields: Any) -> httpx.Response:
        body = {"query": query, "collection_ids": collection_ids, **fields}
        return await self.http.post(f"{self.query}/api/v1/query/generate", json=body)


class ChatClient:
    """A WebSocket chat client that reads events with a timeout (a hang fails the test, never blocks it)."""

    def __init__(self, ws: ClientConnection):
        self.ws = ws
        self.events: list[dict[str, Any]] = []

    async def send(self, **frame: Any) -> None:
        await self.ws.send(json.dumps(frame))

    async def send_raw(self, raw: str) -> None:
        await self.ws.send(raw)

    async def next(self, timeout: float = 15.0) -> dict[str, Any]:
        event = json.loads(await asyncio.wait_for(self.ws.recv(), timeout))
        self.events.append(event)
        return event

    async def until(self, *types: str, timeout: float = 15.0) -> list[dict[str, Any]]:
        """Events up to and including the first one whose type is in `types`."""
        seen = []
        while True:
            event = await self.next(timeout)
            seen.append(event)
            if event["type"] in types:
                return seen

    async def turn(self, content: str) -> list[dict[str, Any]]:
        await self.send(type="message", content=content)
        return await self.until("message_end", "error")


@asynccontextmanager
async def chat(
    session: dict[str, Any], api_key: str, *, base_ws: str | None = None, **query: Any
) -> AsyncIterator[ChatClient]:
    url = session["ws_url"]
    if base_ws:
        url = f"{base_ws}/ws/chat/{session['session_id']}"
    params = "&".join(f"{k}={v}" for k, v in {"token": api_key, **query}.items())
    async with connect(f"{url}?{params}", open_timeout=10) as ws:
        yield ChatClient(ws)


@pytest.fixture(scope="session")
def otlp_receiver() -> Iterator[OtlpReceiver]:
    """Where the shared platform's services export their spans (tracing on, as an operator would run it)."""
    with OtlpReceiver().serve() as receiver:
        yield receiver


@pytest.fixture(scope="session")
def chat_platform(
    redis_url: str,
    database_url: str,
    openai_standin: str,
    otlp_receiver: OtlpReceiver,
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[ChatPlatform]:
    run = uuid.uuid4().hex[:10]
    home = tmp_path_factory.mktemp("platform")
    values = {
        "environment": f"test{run}",
        "redis_url": redis_url,
        "database_url": database_url,
        "database_schema": f"t_{run}",
        "local_chat_model": "scripted",
        "jwt_secret": PLATFORM_JWT_SECRET,
        "groq_api_key": API_KEY,
        "groq_base_url": openai_standin,
        "openai_api_key": API_KEY,
        "openai_base_url": f"{openai_standin}/v1",
        "turn_grace_s": "3",
        # long enough for the 4 s long story even when it is rerun after its worker was killed (restart and
        # reclaim take 2-4 s on 2 busy cores), short enough to test timeouts
        "turn_timeout_cap_s": "12",
        # a killed worker's turn is reclaimed within the turn's time (the failover tests kill one)
        "claim_idle_ms": "1500",
        "reclaim_interval_s": "0.3",
        # webhooks: retries a few tenths of a second apart; the test receivers listen on 127.0.0.2, which the
        # operator allows (127.0.0.1 and every other private address stay refused)
        "webhook_retry_base_s": "0.1",
        "webhook_sweep_interval_s": "0.5",
        "webhook_stale_after_s": "5",
        "mcp_call_timeout_s": "2",  # a hanging MCP tool ends its call in 2 s
        "outbound_allowed_networks": '["127.0.0.2/32"]',
    }
    env = {k: v for k, v in os.environ.items() if not k.startswith(("NOOBLE4_", "OTEL_"))}
    env.update({f"NOOBLE4_{key.upper()}": value for key, value in values.items()})
    # traces on, exported often (the standard variables an operator sets)
    # (a queue big enough that the SQL spans of a busy test run are never dropped before export)
    env.update(
        {
            "OTEL_EXPORTER_OTLP_ENDPOINT": otlp_receiver.endpoint,
            "OTEL_BSP_SCHEDULE_DELAY": "200",
            "OTEL_BSP_MAX_QUEUE_SIZE": "65536",
        }
    )
    settings = CommonSettings(
        environment=values["environment"], database_url=database_url, database_schema=values["database_schema"]
    )
    offset = free_port_offset()
    replica_port = free_port()
    procs: list[subprocess.Popen[Any]] = []

    def start(
        args: list[str], log: str, extra_env: dict[str, str] | None = None, **kwargs: Any
    ) -> subprocess.Popen[Any]:
        out = (home / log).open("wb") if "stdout" not in kwargs else kwargs.pop("stdout")
        proc = subprocess.Popen(
            [sys.executable, "-m", *args],
            cwd=ROOT,
            env=env | (extra_env or {}),
            stdout=out,
            stderr=subprocess.STDOUT,
            **kwargs,
        )
        procs.append(proc)
        return proc

    try:
        up = start(
            ["common.launcher.cli", "up", "--home", str(home / "n4"), "--port-offset", str(offset)],
            "up.log",
            stdout=subprocess.PIPE,
            text=True,
        )
        assert up.stdout is not None
        output = []
        for line in up.stdout:
            output.append(line)
            if "Nooble4 is ready" in line:
                break
        assert any("Nooble4 is ready" in line for line in output), "".join(output) + _logs(home / "n4" / "logs")
        replica = start(  # a small replica: it also shows what happens when a replica is full
            ["agent_orchestrator_service", "--port", str(replica_port)],
            "replica.log",
            {"NOOBLE4_MAX_CHAT_SOCKETS": str(REPLICA_MAX_SOCKETS)},
        )
        wait_http(f"http://127.0.0.1:{replica_port}/ready", replica)
        yield ChatPlatform(settings, offset, replica_port, env, home)
    finally:
        for proc in reversed(procs):
            if proc.poll() is None:
                proc.send_signal(signal.SIGINT)
        for proc in procs:
            try:
                proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                proc.kill()
        asyncio.run(drop_schema(settings))


def _logs(log_dir: Path) -> str:
    return "".join(f"\n--- {p.name}\n{p.read_text()[-3000:]}" for p in sorted(log_dir.glob("*.log")))
