"""Waiting on real conditions (never on fixed sleeps) for the tests."""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
import threading
import time
from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager
from http.server import HTTPServer
from pathlib import Path
from typing import Any

import httpx
from redis.asyncio import Redis


async def pop(redis: Redis, key: str, timeout: float = 15.0) -> str:
    """BLPOP one element or fail the test (in slices shorter than the socket timeout)."""
    give_up_at = time.monotonic() + timeout
    while (remaining := give_up_at - time.monotonic()) > 0:
        popped = await redis.blpop([key], timeout=min(remaining, 2.0))
        if popped is not None:
            return popped[1]
    raise AssertionError(f"nothing arrived on {key} within {timeout} s")


@contextmanager
def serving(server: HTTPServer) -> Iterator[HTTPServer]:
    """A test's own HTTP server answering in a thread of this process until the block ends."""
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield server
    finally:
        server.shutdown()
        server.server_close()


async def redis_contents(redis: Redis, prefix: str) -> list[str]:
    """Every key of a test's key prefix and every value it holds (stream entries, list elements, strings,
    hashes), as text: what a scan for a secret that must never rest in Redis reads."""
    seen: list[str] = []
    async for key in redis.scan_iter(match=f"{prefix}:*", count=1000):
        kind = await redis.type(key)
        if kind == "stream":
            seen += [json.dumps(fields) for _, fields in await redis.xrange(key)]
        elif kind == "list":
            seen += await redis.lrange(key, 0, -1)
        elif kind == "string":
            seen.append(await redis.get(key) or "")
        elif kind == "hash":
            seen.append(json.dumps(await redis.hgetall(key)))
        seen.append(key)
    return seen


async def delete_prefixed(redis: Redis, prefix: str) -> None:
    """Remove every key of a test's key prefix (its environment)."""
    async for key in redis.scan_iter(match=f"{prefix}:*", count=1000):
        await redis.unlink(key)


async def blocked_on(redis: Redis, name: str, command: str) -> bool:
    """Some connection named `name` is waiting (server-side) in a blocking `command`."""
    return any(
        client.get("name") == name and client.get("cmd") == command and "b" in client.get("flags", "")
        for client in await redis.client_list()
    )


async def eventually(check: Callable[[], Awaitable[Any]], timeout: float = 15.0, what: str = "condition") -> Any:
    """Poll `check` until it returns something truthy; fail with `what` after `timeout`."""
    give_up_at = time.monotonic() + timeout
    while True:
        result = await check()
        if result:
            return result
        assert time.monotonic() < give_up_at, f"{what} not reached within {timeout} s"
        await asyncio.sleep(0.02)


def wait_http(url: str, proc: subprocess.Popen[bytes] | None = None, timeout: float = 30.0) -> None:
    """Poll `url` until it answers 200 (a server started by the test is up); fail if `proc` exits first."""
    give_up_at = time.monotonic() + timeout
    with httpx.Client(timeout=1.0) as http:
        while True:
            assert proc is None or proc.poll() is None, f"server for {url} exited with {proc.returncode}"
            try:
                if http.get(url).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            assert time.monotonic() < give_up_at, f"{url} not up within {timeout} s"
            time.sleep(0.05)


def jwt_headers(secret: str, tenant_id: str, **claims: Any) -> dict[str, str]:
    """An Authorization header with an HS256 token naming `tenant_id` (the JWT path of `common.auth`)."""
    import jwt

    token = jwt.encode({"tenant_id": tenant_id, "exp": int(time.time()) + 600, **claims}, secret, "HS256")
    return {"Authorization": f"Bearer {token}"}


async def new_tenant(settings: Any, tier: str = "professional", name: str = "Acme") -> tuple[str, dict[str, str]]:
    """A tenant created as the CLI does; its id and an Authorization header with its first API key."""
    from agent_management_service.services.tenants import create_tenant
    from common.database import create_engine
    from common.models.tiers import Tier

    engine = create_engine(settings)
    try:
        tenant, key = await create_tenant(engine, name, Tier(tier))
    finally:
        await engine.dispose()
    return tenant.id, {"Authorization": f"Bearer {key.api_key}"}


def tenant_create(env: dict[str, str], *args: str) -> dict[str, Any]:
    """`nooble4 tenant create --json ARGS` as an operator runs it; the tenant and its API key."""
    root = Path(__file__).resolve().parents[2]
    command = [sys.executable, "-m", "common.launcher.cli", "tenant", "create", "--json", *args]
    done = subprocess.run(command, cwd=root, env=env, capture_output=True, text=True, timeout=60, check=True)
    return json.loads(done.stdout)
