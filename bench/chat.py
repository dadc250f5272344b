"""Chat latency through the whole platform: WebSocket message → first token and → message_end.

Starts the platform with `nooble4 up` (the `local` provider served by the scripted model, so the
numbers are the platform's, not a model's), runs 1 and 50 concurrent sessions, and prints p50/p99 and
each service's CPU time per turn (where a turn's work goes) beside the messaging floor (a bare redis-py
XADD → XREADGROUP → LPUSH → BRPOP round trip, from `bench.messaging`, at the same concurrency). Then
measures the tokens/s of the bundled local model (SmolLM2-135M on llama-cpp-python), streamed through its
OpenAI-compatible server.

Then breaks one session's first token down by hop, from the Redis commands of each turn (MONITOR): the
WebSocket message reaching the orchestrator, the orchestrator starting the turn, the execution service taking
it and sending the first token (the turn's stamps come with it: its first command is that token), the
orchestrator logging it, and the log reaching the client. MONITOR makes every command slower, so the hops'
shares are the reading, not their absolute times.

    python -m bench.chat [--turns 20] [--sessions 1 50] [--hop-turns 20] [--skip-local-model]

Uses NOOBLE4_REDIS_URL / NOOBLE4_DATABASE_URL when set, else embedded Redis and PostgreSQL.
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import json
import multiprocessing
import os
import subprocess
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from statistics import quantiles

import httpx
from redis.asyncio import Redis
from websockets.asyncio.client import ClientConnection, connect

from bench.messaging import _run_worker, bare_caller, measure
from bench.running_platform import BenchPlatform
from common.launcher.ports import free_port
from common.local_llm import LOCAL_MODEL_ALIAS, llama_server_command, local_llm_threads


def pct(values: list[float]) -> tuple[float, float]:
    if len(values) < 2:
        return values[0] * 1000, values[0] * 1000
    cuts = quantiles(values, n=100, method="inclusive")
    return cuts[49] * 1000, cuts[98] * 1000


async def messaging_floor(redis_url: str, callers: int, seconds: float = 2.0) -> tuple[float, float]:
    """p50/p99 (ms) of the bare redis-py request/reply loop, on a database of its own (it flushes it)."""
    url = redis_url.rsplit("/", 1)[0] + "/15"
    ctx = multiprocessing.get_context("spawn")
    ready = ctx.Event()
    os.environ["BENCH_REDIS_URL"] = url
    redis = Redis.from_url(url, decode_responses=True, max_connections=256)
    await redis.flushdb()
    proc = ctx.Process(target=_run_worker, args=("bare", url, ready), daemon=True)
    proc.start()
    try:
        await asyncio.to_thread(ready.wait, 30)
        assert proc.pid is not None
        _, p50, p99, *_ = await measure(bare_caller(redis), callers, seconds, proc.pid)
        return p50, p99
    finally:
        proc.terminate()
        proc.join(10)
        await redis.flushdb()
        await redis.aclose()


async def new_agent(platform: BenchPlatform, api_key: str) -> str:
    async with httpx.AsyncClient(timeout=30) as http:
        response = await http.post(
            f"{platform.url('agent_management_service')}/api/v1/agents",
            json={"name": "Bench", "system_prompt": "Answer briefly."},
            headers={"Authorization": f"Bearer {api_key}"},
        )
        return str(response.json()["id"])


@asynccontextmanager
async def chat_socket(platform: BenchPlatform, api_key: str, agent_id: str) -> AsyncIterator[ClientConnection]:
    """A new session's WebSocket, once the session is ready."""
    async with httpx.AsyncClient(timeout=30) as http:
        response = await http.post(
            f"{platform.url('agent_orchestrator_service')}/api/v1/chat/sessions",
            json={"agent_id": agent_id},
            headers={"Authorization": f"Bearer {api_key}"},
        )
        session = response.json()
    async with connect(f"{session['ws_url']}?token={api_key}") as ws:
        while json.loads(await ws.recv())["type"] != "session_ready":
            pass
        yield ws


async def chat_turn(ws: ClientConnection, i: int) -> tuple[float, float, float]:
    """One turn: when its message was sent, its first token came and its message_end came (`time.time()`, the
    clock Redis's MONITOR uses)."""
    sent, first_token = time.time(), 0.0
    await ws.send(json.dumps({"type": "message", "content": f"benchmark message number {i}"}))
    while True:
        event = json.loads(await asyncio.wait_for(ws.recv(), 60))
        if event["type"] == "token" and not first_token:
            first_token = time.time()
        if event["type"] == "error":
            raise RuntimeError(f"turn failed: {event}")
        if event["type"] == "message_end":
            return sent, first_token or time.time(), time.time()


async def one_session(platform: BenchPlatform, api_key: str, agent_id: str, turns: int) -> list[tuple[float, float]]:
    """(first token, message_end) seconds of each turn."""
    timings = []
    async with chat_socket(platform, api_key, agent_id) as ws:
        for i in range(turns):
            sent, first_token, end = await chat_turn(ws, i)
            timings.append((first_token - sent, end - sent))
    return timings


async def chat_latency(platform: BenchPlatform, sessions: int, turns: int) -> dict:
    api_key = await platform.new_tenant()
    agent_id = await new_agent(platform, api_key)
    await one_session(platform, api_key, agent_id, 2)  # warm-up
    cpu_before = platform.service_cpu_s()
    began = time.perf_counter()
    results = await asyncio.gather(*(one_session(platform, api_key, agent_id, turns) for _ in range(sessions)))
    elapsed = time.perf_counter() - began
    cpu_after = platform.service_cpu_s()
    flat = [t for session in results for t in session]
    return {
        "turns/s": len(flat) / elapsed,
        "first token": pct([t[0] for t in flat]),
        "message_end": pct([t[1] for t in flat]),
        "cpu ms/turn": {
            name: (cpu_after[name] - cpu_before.get(name, 0.0)) * 1000 / len(flat) for name in sorted(cpu_after)
        },
    }


HOPS = (
    "WebSocket -> orchestrator",
    "orchestrator starts the turn",
    "execution takes it, 1st token out",
    "callback -> orchestrator logs it",
    "session log -> client",
)


# each hop ends at the first command after the previous hop's end from (service, command, key containing)
HOP_ENDS = (
    ("agent_orchestrator_service", None, ""),  # its first command for the turn (its socket reads aside)
    ("agent_orchestrator_service", "XADD", "{execution}:actions"),
    ("agent_execution_service", "LPUSH", "callbacks"),
    ("agent_orchestrator_service", "EVALSHA", ""),
)


def hop_times(commands: list[dict], names: dict[str, str], sent: float, first_token: float) -> list[float] | None:
    """Seconds spent in each hop of HOPS, from one turn's MONITOR lines; None if a hop's end is missing."""
    marks = [sent]
    for service, command, key_part in HOP_ENDS:
        for entry in commands:
            words = [*entry["command"].split(" ", 2), ""]
            if (
                entry["time"] > marks[-1]
                and names.get(f"{entry['client_address']}:{entry['client_port']}") == service
                and (words[0] == command or (command is None and words[0] not in ("XREAD", "BLMOVE")))
                and key_part in words[1]
            ):
                marks.append(float(entry["time"]))
                break
        else:
            return None
    marks.append(first_token)
    return [b - a for a, b in itertools.pairwise(marks)]


async def first_token_hops(platform: BenchPlatform, turns: int) -> list[tuple[str, float]]:
    """Median ms of each hop of HOPS over `turns` single-session turns, with MONITOR on."""
    api_key = await platform.new_tenant()
    agent_id = await new_agent(platform, api_key)
    redis = Redis.from_url(platform.redis_url, decode_responses=True)
    end_marker = f"bench-hops-end-{time.time()}"
    try:
        async with chat_socket(platform, api_key, agent_id) as ws:
            await chat_turn(ws, -1)  # warm-up
            names = {client["addr"]: client.get("name", "") for client in await redis.client_list()}
            commands: list[dict] = []
            async with redis.monitor() as monitor:

                async def collect() -> None:  # until the marker sent after the last turn comes back
                    while end_marker not in (entry := await monitor.next_command())["command"]:
                        commands.append(entry)

                collector = asyncio.create_task(collect())
                marks = [await chat_turn(ws, i) for i in range(turns)]
                await redis.echo(end_marker)
                await asyncio.wait_for(collector, 30)
    finally:
        await redis.aclose()
    hops = [h for sent, first, _ in marks if (h := hop_times(commands, names, sent, first))]
    return [(name, sorted(h[k] for h in hops)[len(hops) // 2] * 1000) for k, name in enumerate(HOPS)] if hops else []


async def local_model_tokens_per_second(runs: int = 3) -> float:
    port = free_port()
    command = llama_server_command(port)
    proc = await asyncio.create_subprocess_exec(*command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    base = f"http://127.0.0.1:{port}/v1"
    try:
        async with httpx.AsyncClient(timeout=120) as http:
            for _ in range(600):
                try:
                    if (await http.get(f"{base}/models")).status_code == 200:
                        break
                except httpx.HTTPError:
                    await asyncio.sleep(0.1)
            rates = []
            for _ in range(runs):
                body = {
                    "model": LOCAL_MODEL_ALIAS,
                    "messages": [{"role": "user", "content": "Write a short story about a lighthouse keeper."}],
                    "max_tokens": 160,
                    "stream": True,
                }
                tokens, first = 0, None
                async with http.stream("POST", f"{base}/chat/completions", json=body) as response:
                    async for line in response.aiter_lines():
                        if line.startswith("data: {") and json.loads(line[6:])["choices"][0]["delta"].get("content"):
                            tokens += 1
                            first = first or time.perf_counter()
                if first and tokens > 1:
                    rates.append((tokens - 1) / (time.perf_counter() - first))
            return sorted(rates)[len(rates) // 2]
    finally:
        proc.kill()
        await proc.wait()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--turns", type=int, default=20, help="turns per session")
    parser.add_argument("--sessions", type=int, nargs="+", default=[1, 50])
    parser.add_argument("--hop-turns", type=int, default=20, help="single-session turns broken down by hop")
    parser.add_argument("--skip-local-model", action="store_true")
    args = parser.parse_args()
    rows = []
    with BenchPlatform("chat") as platform:
        for sessions in args.sessions:
            turns = args.turns if sessions == 1 else max(3, args.turns // 4)
            floor = asyncio.run(messaging_floor(platform.redis_url, sessions))
            result = asyncio.run(chat_latency(platform, sessions, turns))
            rows.append((sessions, sessions * turns, result, floor))
        hops = asyncio.run(first_token_hops(platform, args.hop_turns)) if args.hop_turns else []
    print(
        f"{'sessions':>8} {'turns':>6} {'turns/s':>8} {'1st token p50':>14} {'p99':>7} "
        f"{'msg_end p50':>12} {'p99':>7}   {'floor p50':>10} {'floor p99':>10}   (ms)"
    )
    for sessions, turns, r, (f50, f99) in rows:
        t50, t99 = r["first token"]
        e50, e99 = r["message_end"]
        print(
            f"{sessions:>8} {turns:>6} {r['turns/s']:>8.1f} {t50:>14.1f} {t99:>7.1f} {e50:>12.1f} {e99:>7.1f}   "
            f"{f50:>10.2f} {f99:>10.2f}"
        )
    print("CPU per turn by process (ms; the scripted model runs inside the execution service):")
    for sessions, _, r, _ in rows:
        used = {name.removesuffix("_service"): ms for name, ms in r["cpu ms/turn"].items() if ms >= 0.05}
        print(f"  {sessions:>3} sessions: " + ", ".join(f"{name} {ms:.2f}" for name, ms in used.items()))
    if hops:
        total = sum(ms for _, ms in hops)
        print(f"first token by hop (1 session, medians of {args.hop_turns} turns, MONITOR on: read the shares):")
        for name, ms in hops:
            print(f"  {name:<34} {ms:>6.2f} ms {100 * ms / total:>5.1f} %")
    if not args.skip_local_model:
        rate = asyncio.run(local_model_tokens_per_second())
        threads = local_llm_threads()
        print(
            f"local model ({LOCAL_MODEL_ALIAS}, llama-cpp-python, {threads} threads): {rate:.0f} tokens/s (median of 3)"
        )


if __name__ == "__main__":
    main()
