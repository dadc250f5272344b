"""Ingestion throughput through the running platform against the embedding model's own rate, same run.

    python -m bench.ingestion [--large-kb 400] [--small 300]

- **large**: one Markdown document of about `--large-kb` KB (the Node.js API reference installed by Debian's
  `nodejs` package), uploaded and followed to `done`: chunks/s from upload to indexed;
- **small**: `--small` one-section documents (the FAQ answers of `bench.datasets.debian_docs`) uploaded 16 at
  a time: documents/s and chunks/s;
- **model**: all-MiniLM-L6-v2 embedding the large document's chunk texts directly in this process (batches
  of 32), measured after the platform has stopped, so it has the machine to itself.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import time

import httpx
import sqlalchemy as sa
from websockets.asyncio.client import connect

from bench.datasets.debian_docs import NODE_API, build_unix_faq
from bench.running_platform import BenchPlatform
from common.database import create_engine
from common.knowledge_tables import chunks
from embedding_service.services.providers import LocalMiniLM
from ingestion_service.services.pipeline import embedded_text


def large_document(kb: int) -> str:
    parts, size = [], 0
    for page in sorted(NODE_API.glob("*.md")):
        if page.stem in ("all", "index"):
            continue
        text = page.read_text(errors="replace")
        parts.append(text)
        size += len(text)
        if size >= kb * 1024:
            break
    return "\n\n".join(parts)[: kb * 1024]


async def followed(http: httpx.AsyncClient, ingestion: str, api_key: str, task_id: str) -> dict:
    url = ingestion.replace("http", "ws", 1) + f"/ws/ingestion/{task_id}?token={api_key}"
    async with connect(url) as ws:
        events = [json.loads(raw) async for raw in ws]
    return events[-1]


async def embedded_texts(platform: BenchPlatform, document_id: str) -> list[str]:
    """The texts the pipeline embedded for the document's chunks, for the model's own rate on the same work."""
    assert platform.settings is not None
    engine = create_engine(platform.settings)
    try:
        async with engine.connect() as conn:
            rows = (
                await conn.execute(
                    sa.select(chunks.c.content, chunks.c.heading).where(chunks.c.document_id == document_id)
                )
            ).all()
    finally:
        await engine.dispose()
    return [embedded_text(row) for row in rows]


async def run(platform: BenchPlatform, large_kb: int, small: int) -> tuple[dict, list[str]]:
    api_key = await platform.new_tenant()
    ingestion = platform.url("ingestion_service")
    results: dict[str, tuple[float, int, int]] = {}
    async with httpx.AsyncClient(timeout=600, headers={"Authorization": f"Bearer {api_key}"}) as http:
        collection = (await http.post(f"{ingestion}/api/v1/collections", json={"name": "ingest"})).json()["id"]
        started = time.perf_counter()
        body = {"collection_id": collection, "title": "node-api.md", "text": large_document(large_kb)}
        accepted = (await http.post(f"{ingestion}/api/v1/documents/text", json=body)).json()
        last = await followed(http, ingestion, api_key, accepted["task_id"])
        assert last["status"] == "done", last
        results["large"] = (time.perf_counter() - started, 1, last["chunks_total"])
        chunk_texts = await embedded_texts(platform, accepted["document"]["id"])
        corpus = build_unix_faq()[0][:small]
        gate = asyncio.Semaphore(16)

        async def upload(doc: dict) -> int:
            async with gate:
                body = {"collection_id": collection, "title": doc["_id"], "text": doc["text"]}
                task_id = (await http.post(f"{ingestion}/api/v1/documents/text", json=body)).json()["task_id"]
            return int((await followed(http, ingestion, api_key, task_id))["chunks_total"])

        started = time.perf_counter()
        chunks = sum(await asyncio.gather(*(upload(doc) for doc in corpus)))
        results["small"] = (time.perf_counter() - started, len(corpus), chunks)
    return results, chunk_texts


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--large-kb", type=int, default=400)
    parser.add_argument("--small", type=int, default=300)
    args = parser.parse_args()
    with BenchPlatform("ingestion") as platform:
        results, texts = asyncio.run(run(platform, args.large_kb, args.small))
    model = LocalMiniLM()
    model.embed_sync(texts[:32])  # warm
    started = time.perf_counter()
    for i in range(0, len(texts), 32):
        model.embed_sync(texts[i : i + 32])
    model_rate = len(texts) / (time.perf_counter() - started)
    print(f"{'run':<8} {'documents':>9} {'chunks':>7} {'seconds':>8} {'docs/s':>7} {'chunks/s':>9} {'x model':>8}")
    for label, (seconds, docs, count) in results.items():
        rate = count / seconds
        line = f"{label:<8} {docs:>9} {count:>7} {seconds:>8.1f} {docs / seconds:>7.1f} {rate:>9.1f}"
        print(f"{line} {rate / model_rate:>8.2f}")
    print(f"{'model':<8} {'':>9} {len(texts):>7} {len(texts) / model_rate:>8.1f} {'':>7} {model_rate:>9.1f} {1:>8.2f}")


if __name__ == "__main__":
    main()
