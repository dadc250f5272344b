"""What an idle chat socket costs Redis: commands per second per open, quiet WebSocket.

Starts the platform on a Redis of its own (the commands counted are the platform's alone), measures the Redis
commands per second with no socket open, then with `--sockets` sessions open and quiet, and prints the
difference per socket, by command (`INFO commandstats`).

    python -m bench.idle_sockets [--sockets 50] [--seconds 10]
"""

from __future__ import annotations

import argparse
import asyncio
import os
from contextlib import AsyncExitStack

from redis.asyncio import Redis

from bench.chat import chat_socket, new_agent
from bench.running_platform import BenchPlatform


async def command_counts(redis: Redis) -> dict[str, int]:
    stats = await redis.info("commandstats")
    return {name.removeprefix("cmdstat_"): int(value["calls"]) for name, value in stats.items()}


async def rate(redis: Redis, seconds: float) -> dict[str, float]:
    """Commands per second by command, over `seconds`."""
    before = await command_counts(redis)
    await asyncio.sleep(seconds)  # the measuring window itself, not a wait for anything
    after = await command_counts(redis)
    return {name: (after[name] - before.get(name, 0)) / seconds for name in after}


async def run(sockets: int, seconds: float) -> None:
    os.environ.pop("NOOBLE4_REDIS_URL", None)  # a Redis of its own
    with BenchPlatform("idle") as platform:
        redis = Redis.from_url(platform.redis_url, decode_responses=True)
        api_key = await platform.new_tenant()
        agent_id = await new_agent(platform, api_key)
        quiet = await rate(redis, seconds)
        async with AsyncExitStack() as stack:
            for _ in range(sockets):
                await stack.enter_async_context(chat_socket(platform, api_key, agent_id))
            idle = await rate(redis, seconds)
        await redis.aclose()
    names = sorted(set(quiet) | set(idle), key=lambda n: idle.get(n, 0) - quiet.get(n, 0), reverse=True)
    print(f"{sockets} idle sockets, {seconds:g} s windows: Redis commands per second per socket")
    print(f"{'command':<16}{'per socket/s':>14}")
    total = 0.0
    for name in names:
        per_socket = (idle.get(name, 0) - quiet.get(name, 0)) / sockets
        if abs(per_socket) >= 0.005:
            total += per_socket
            print(f"{name:<16}{per_socket:>14.3f}")
    print(f"{'total':<16}{total:>14.3f}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sockets", type=int, default=50)
    parser.add_argument("--seconds", type=float, default=10.0)
    args = parser.parse_args()
    asyncio.run(run(args.sockets, args.seconds))


if __name__ == "__main__":
    main()
