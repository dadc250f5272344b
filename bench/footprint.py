"""Memory of the platform: each process's resident memory (RSS) idle, then after a large ingestion (the
397-page Valgrind manual, a PDF from Debian's `valgrind` package) and a burst of chat turns, with the
ingestion's embedding throughput beside it (a memory saving must not cost throughput).

    python -m bench.footprint [--pdf PATH] [--turns 200]

The platform runs as `nooble4 up` starts it (bench.running_platform), the `local` chat provider scripted.
"""

from __future__ import annotations

import argparse
import asyncio
import gzip
import time
from pathlib import Path

import httpx

from bench.chat import chat_socket, chat_turn
from bench.ingestion import followed
from bench.running_platform import BenchPlatform

VALGRIND = Path("/usr/share/doc/valgrind/valgrind_manual.pdf.gz")
SERVICES = [
    "agent_orchestrator_service",
    "agent_execution_service",
    "agent_management_service",
    "conversation_service",
    "embedding_service",
    "ingestion_service",
    "query_service",
]


async def exercise(platform: BenchPlatform, pdf: bytes, turns: int) -> tuple[float, int]:
    """Ingest the PDF (seconds, chunks), then chat `turns` turns."""
    api_key = await platform.new_tenant()
    ingestion = platform.url("ingestion_service")
    async with httpx.AsyncClient(timeout=900, headers={"Authorization": f"Bearer {api_key}"}) as http:
        collection = (await http.post(f"{ingestion}/api/v1/collections", json={"name": "manuals"})).json()["id"]
        started = time.perf_counter()
        accepted = (
            await http.post(
                f"{ingestion}/api/v1/documents",
                data={"collection_id": collection},
                files={"file": ("valgrind_manual.pdf", pdf, "application/pdf")},
            )
        ).json()
        last = await followed(http, ingestion, api_key, accepted["task_id"])
        assert last["status"] == "done", last
        seconds = time.perf_counter() - started
        agent = (
            await http.post(
                f"{platform.url('agent_management_service')}/api/v1/agents",
                json={"name": "Manuals", "system_prompt": "Answer from the manuals.", "collection_ids": [collection]},
            )
        ).json()["id"]
    async with chat_socket(platform, api_key, agent) as ws:
        for i in range(turns):
            await chat_turn(ws, i)
    return seconds, int(last["chunks_total"])


def table(idle: dict[str, float], after: dict[str, float]) -> None:
    print(f"{'process':<28} {'idle MB':>8} {'after MB':>9}")
    names = [*SERVICES, *sorted(set(after) - set(SERVICES))]
    for name in names:
        print(f"{name:<28} {idle.get(name, 0):>8.0f} {after.get(name, 0):>9.0f}")
    services_idle = sum(idle.get(name, 0) for name in SERVICES)
    services_after = sum(after.get(name, 0) for name in SERVICES)
    print(f"{'seven services':<28} {services_idle:>8.0f} {services_after:>9.0f}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--pdf", type=Path, default=VALGRIND, help="a PDF (or .pdf.gz) to ingest")
    parser.add_argument("--turns", type=int, default=200, help="chat turns after the ingestion")
    args = parser.parse_args()
    raw = args.pdf.read_bytes()
    pdf = gzip.decompress(raw) if args.pdf.suffix == ".gz" else raw
    with BenchPlatform("footprint") as platform:
        time.sleep(5)  # the services settle (warm-up, first connections)
        idle = platform.service_rss_mb()
        seconds, chunks = asyncio.run(exercise(platform, pdf, args.turns))
        time.sleep(5)
        after = platform.service_rss_mb()
    table(idle, after)
    print(f"ingestion: {chunks} chunks in {seconds:.1f} s, {chunks / seconds:.1f} chunks/s")


if __name__ == "__main__":
    main()
