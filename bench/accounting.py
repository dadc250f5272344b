"""What a chat turn pays for the usage ledger, token budgets and tracing.

1. Chat through the whole platform (`nooble4 up`, scripted model), tracing off and then on (OTLP export to a
   receiver in this process), 1 and 20 concurrent sessions: turns/s, first token and message_end p50/p99, CPU
   per turn of every service and of the management service alone (which writes the ledger).
2. In this process, on the same Redis: a turn's budget hold + settle against a bare GET round trip, and the
   tracing helpers each action runs when tracing is off, against one action's round trip.

    python -m bench.accounting [--turns 20] [--sessions 1 20]

Uses NOOBLE4_REDIS_URL / NOOBLE4_DATABASE_URL when set, else embedded Redis and PostgreSQL.
"""

from __future__ import annotations

import argparse
import asyncio
import time
import uuid
from statistics import median

from redis.asyncio import Redis

from bench.chat import chat_latency
from bench.running_platform import BenchPlatform
from common import tracing
from common.budgets import Budgets
from common.contracts.management import BudgetLimit
from common.messaging.queue_manager import QueueManager
from common.models.actions import DomainAction
from tests.support.otlp_receiver import OtlpReceiver


def platform_rows(turns: int, sessions: list[int]) -> list[tuple[str, int, dict]]:
    rows = []
    receiver = OtlpReceiver()
    with receiver.serve():
        for label, env in (
            ("tracing off", {}),
            ("tracing on", {"OTEL_EXPORTER_OTLP_ENDPOINT": receiver.endpoint}),
        ):
            with BenchPlatform(label.replace(" ", "-"), **env) as platform:
                for n in sessions:
                    rows.append((label, n, asyncio.run(chat_latency(platform, n, turns))))
        print(f"(spans received with tracing on: {len(receiver.spans)})")
    return rows


async def budget_cost(redis_url: str, rounds: int = 2000) -> tuple[float, float]:
    """Median µs of a turn's hold + settle (two budgets) and of a bare GET, interleaved."""
    redis = Redis.from_url(redis_url, decode_responses=True)
    budgets = Budgets(redis, QueueManager(f"bench{uuid.uuid4().hex[:6]}"))
    limits = [
        BudgetLimit(scope="tenant", period="day", limit=10**12),
        BudgetLimit(scope="agent", period="day", limit=10**12),
    ]
    held, bare = [], []
    try:
        for i in range(rounds):
            started = time.perf_counter()
            await budgets.reserve("tenant", "agent", f"task{i}", 512, limits, hold_s=60)
            await budgets.settle("tenant", "agent", f"task{i}", 300)
            held.append(time.perf_counter() - started)
            started = time.perf_counter()
            await redis.get("bench:nothing")
            bare.append(time.perf_counter() - started)
    finally:
        await redis.aclose()
    return median(held) * 1e6, median(bare) * 1e6


def tracing_off_cost(rounds: int = 200_000) -> float:
    """ns per action of what tracing runs when off: the sender's context fields, the handler's span."""
    assert not tracing.enabled()
    action = DomainAction(action_type="bench.x.y", tenant_id="t", origin_service="bench", data={})
    started = time.perf_counter()
    for _ in range(rounds):
        tracing.context_fields()
        with tracing.action_span(action, 1):
            tracing.set_outcome("success")
    return (time.perf_counter() - started) / rounds * 1e9


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--turns", type=int, default=20, help="turns per session")
    parser.add_argument("--sessions", type=int, nargs="+", default=[1, 20])
    args = parser.parse_args()

    rows = platform_rows(args.turns, args.sessions)
    print(
        "\n| tracing | sessions | turns/s | first token p50 / p99 ms | message_end p50 / p99 ms "
        "| CPU ms/turn (all) | management |"
    )
    print("|---|---|---|---|---|---|---|")
    for label, n, r in rows:
        cpu = r["cpu ms/turn"]
        print(
            f"| {label} | {n} | {r['turns/s']:.1f} | {r['first token'][0]:.1f} / {r['first token'][1]:.1f} "
            f"| {r['message_end'][0]:.1f} / {r['message_end'][1]:.1f} | {sum(cpu.values()):.1f} "
            f"| {cpu.get('agent_management_service', 0.0):.2f} |"
        )

    with BenchPlatform("budgets") as platform:
        held_us, bare_us = asyncio.run(budget_cost(platform.redis_url))
    off_ns = tracing_off_cost()
    print("\n| per turn | cost | baseline (same run) |")
    print("|---|---|---|")
    print(f"| budget hold + settle (2 Lua calls, 2 budgets) | {held_us:.0f} µs | a bare GET: {bare_us:.0f} µs |")
    print(f"| tracing helpers per action, tracing off | {off_ns:.0f} ns | a GET round trip: {bare_us * 1000:.0f} ns |")


if __name__ == "__main__":
    main()
