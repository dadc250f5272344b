"""Does chat stay usable while documents ingest? First token and tokens/s of chat turns with the real local model
(SmolLM2-135M) on an idle platform, then while a 397-page PDF (the Valgrind manual, Debian's `valgrind` package)
is ingested; for the shipped settings (the local model on all cores but one, ingestion and bulk embeddings at
SCHED_IDLE) and, as the baseline in the same run, as the platform ran before (the model on both of 2 cores,
everything at the same CPU priority).

    python -m bench.chat_while_ingesting [--turns 3]
"""

from __future__ import annotations

import argparse
import asyncio
import gzip
import json
import statistics
import time
from pathlib import Path

import httpx

from bench.chat import chat_socket
from bench.ingestion import followed
from bench.running_platform import BenchPlatform
from common.tokens import count_tokens

PDF = Path("/usr/share/doc/valgrind/valgrind_manual.pdf.gz")
PROMPT = "Write a long story about a lighthouse keeper and a storm."
MAX_TOKENS = 160


async def turn(platform: BenchPlatform, key: str, agent_id: str) -> tuple[float, float]:
    """(first token s, tokens/s after the first token) of one turn in a new conversation."""
    async with chat_socket(platform, key, agent_id) as ws:
        started = time.perf_counter()
        await ws.send(json.dumps({"type": "message", "content": PROMPT}))
        first = None
        while True:
            event = json.loads(await asyncio.wait_for(ws.recv(), 300))
            if event["type"] == "token" and first is None:
                first = time.perf_counter()
            if event["type"] in ("message_end", "error"):
                break
    ended = time.perf_counter()
    assert event["type"] == "message_end" and first is not None, event
    tokens = event["usage"]["completion_tokens"] or count_tokens(event["content"])
    return first - started, tokens / max(ended - first, 1e-6)


async def measure(env: dict[str, str], turns: int, pdf: bytes) -> dict[str, list[tuple[float, float]]]:
    with BenchPlatform("chat-ingest", NOOBLE4_LOCAL_CHAT_MODEL="llama", **env) as platform:
        key = await platform.new_tenant()
        async with httpx.AsyncClient(timeout=300, headers={"Authorization": f"Bearer {key}"}) as http:
            body = {"name": "writer", "system_prompt": "You write stories.", "model": {"max_tokens": MAX_TOKENS}}
            agent = (await http.post(f"{platform.url('agent_management_service')}/api/v1/agents", json=body)).json()
            await turn(platform, key, agent["id"])  # warm-up: the model's first prompt
            idle = [await turn(platform, key, agent["id"]) for _ in range(turns)]
            ingestion = platform.url("ingestion_service")
            collection = (await http.post(f"{ingestion}/api/v1/collections", json={"name": "manuals"})).json()["id"]
            accepted = await http.post(
                f"{ingestion}/api/v1/documents",
                data={"collection_id": collection},
                files={"file": ("valgrind-manual.pdf", pdf)},
            )
            task_id = accepted.json()["task_id"]
            task_url = f"{ingestion}/api/v1/tasks/{task_id}"
            busy: list[tuple[float, float]] = []
            while len(busy) < turns:
                result = await turn(platform, key, agent["id"])
                if (await http.get(task_url)).json()["status"] not in ("queued", "processing"):
                    break  # the ingestion ended during the turn: not a turn under load
                busy.append(result)
            await followed(http, ingestion, key, task_id)  # the platform stops once the document is in
    return {"idle": idle, "ingesting": busy}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--turns", type=int, default=3)
    args = parser.parse_args()
    if not PDF.exists():
        raise SystemExit(f"{PDF} is missing: apt-get install valgrind")
    before = {"NOOBLE4_CPU_PRIORITY": "normal", "NOOBLE4_BULK_IN_BACKGROUND": "false", "NOOBLE4_LOCAL_LLM_THREADS": "2"}
    configs = {"as before (baseline)": before, "shipped settings": {}}
    print(f"{'':<36} {'1st token idle':>14} {'ingesting':>10} {'tokens/s idle':>14} {'ingesting':>10} {'kept':>6}")
    for name, env in configs.items():
        result = asyncio.run(measure(env, args.turns, gzip.decompress(PDF.read_bytes())))
        if not result["ingesting"]:
            print(f"{name:<36} the PDF ingested before a turn could run beside it")
            continue
        first = {k: statistics.median(r[0] for r in v) for k, v in result.items()}
        speed = {k: statistics.median(r[1] for r in v) for k, v in result.items()}
        print(
            f"{name:<36} {first['idle']:>12.2f} s {first['ingesting']:>8.2f} s {speed['idle']:>14.1f} "
            f"{speed['ingesting']:>10.1f} {speed['ingesting'] / speed['idle']:>6.0%}"
        )


if __name__ == "__main__":
    main()
