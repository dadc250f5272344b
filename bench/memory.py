"""What memory costs a chat turn: first token and message_end over a long conversation, for an agent whose
window holds 6 messages, with memory off, recall, summary and both (summaries made by another worker after the
turns that need them). The platform runs with the scripted model (`nooble4 up`), so the numbers are the
platform's: recall's embedding round trip before the first token, and whether summarising — other workers'
model calls, database reads and writes — shows in the turns' times.

    python -m bench.memory [--turns 60] [--think-s 0.5]

Uses NOOBLE4_REDIS_URL / NOOBLE4_DATABASE_URL when set, else embedded Redis and PostgreSQL.
"""

from __future__ import annotations

import argparse
import asyncio

import httpx

from bench.chat import chat_socket, chat_turn, pct
from bench.running_platform import BenchPlatform

MODES = ("off", "recall", "summary", "both")


async def new_agent(platform: BenchPlatform, api_key: str, mode: str) -> str:
    async with httpx.AsyncClient(timeout=30) as http:
        response = await http.post(
            f"{platform.url('agent_management_service')}/api/v1/agents",
            json={
                "name": f"Memory {mode}",
                "system_prompt": "Answer briefly.",
                "memory": {"max_messages": 6, "mode": mode, "summary_after": 4},
            },
            headers={"Authorization": f"Bearer {api_key}"},
        )
        response.raise_for_status()
        return str(response.json()["id"])


async def long_conversation(
    platform: BenchPlatform, mode: str, turns: int, think_s: float
) -> tuple[list[float], list[float]]:
    """First-token and message_end seconds of the turns after the window is full (turn 7 on); the user takes
    `think_s` before each next message (the previous turn's indexing and summary happen meanwhile)."""
    api_key = await platform.new_tenant()
    agent = await new_agent(platform, api_key, mode)
    first, end = [], []
    async with chat_socket(platform, api_key, agent) as ws:
        for i in range(turns):
            if think_s:
                await asyncio.sleep(think_s)  # the user reading the answer: part of the workload measured
            sent, first_token, done = await chat_turn(ws, i)
            if i >= 6:
                first.append(first_token - sent)
                end.append(done - sent)
    return first, end


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--turns", type=int, default=60)
    parser.add_argument("--think-s", type=float, default=0.5, help="the user's pause before each message")
    args = parser.parse_args()
    rows = []
    with BenchPlatform("memory") as platform:
        asyncio.run(long_conversation(platform, "off", 8, 0))  # warm-up
        for _ in range(2):  # two interleaved rounds: modes measured under the same conditions
            for mode in MODES:
                rows.append((mode, *asyncio.run(long_conversation(platform, mode, args.turns, args.think_s))))
    print(f"\n{args.turns}-turn conversations, window of 6 messages, {args.think_s} s between a reply and the next")
    print("message; turns 7 on; two rounds each")
    print("| memory | first token p50 / p99 ms | message_end p50 / p99 ms |")
    print("|---|---|---|")
    for mode in MODES:
        first = [t for m, f, _ in rows if m == mode for t in f]
        end = [t for m, _, e in rows if m == mode for t in e]
        (f50, f99), (e50, e99) = pct(first), pct(end)
        print(f"| {mode} | {f50:.1f} / {f99:.1f} | {e50:.1f} / {e99:.1f} |")


if __name__ == "__main__":
    main()
