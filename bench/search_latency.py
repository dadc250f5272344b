"""Search latency at a given collection size, through the running platform's query service.

    python -m bench.search_latency [--chunks 10000] [--queries 200]

Fills one collection with `--chunks` chunks straight into the database with the ingestion service's own
`store_chunks` (texts: the sections of `python -m bench.datasets.debian_docs`, repeated as needed; vectors:
random unit vectors, since only their number matters for speed), then times `POST /api/v1/query/search` in
each mode with the sets' questions and API names. Prints p50/p95/p99 per mode. The query's embedding goes
through the embedding service as usual.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import time
from pathlib import Path
from statistics import quantiles
from types import SimpleNamespace

import httpx
import numpy as np
import sqlalchemy as sa

from bench.running_platform import BenchPlatform
from common.database import create_engine
from common.knowledge_tables import documents
from ingestion_service.services.chunking import Chunk
from ingestion_service.services.pipeline import store_chunks

DATASETS = Path(".artifacts/datasets")
BATCH = 500


def sections_and_queries() -> tuple[list[str], list[str]]:
    texts, queries = [], []
    for name in ("node-api", "unix-faq"):
        folder = DATASETS / name
        if not folder.exists():
            raise SystemExit(f"{folder} is missing: run `python -m bench.datasets.debian_docs` first")
        texts += [json.loads(line)["text"] for line in (folder / "corpus.jsonl").read_text().splitlines()]
        queries += [json.loads(line)["text"] for line in (folder / "queries.jsonl").read_text().splitlines()]
    return texts, queries


async def fill(platform: BenchPlatform, tenant_id: str, collection_id: str, n: int, texts: list[str]) -> None:
    assert platform.settings is not None
    engine = create_engine(platform.settings)
    document = SimpleNamespace(id="bench-document", collection_id=collection_id, title="bench")
    collection = SimpleNamespace(dimensions=384, text_search_config="english")
    rng = np.random.default_rng(7)
    try:
        async with engine.begin() as conn:
            await conn.execute(
                documents.insert().values(
                    tenant_id=tenant_id,
                    id=document.id,
                    collection_id=collection_id,
                    title="bench",
                    source="bench",
                    content_type="text/plain",
                    content_hash="bench",
                    size_bytes=0,
                    raw=b"",
                    status="ready",
                )
            )
        for start in range(0, n, BATCH):
            positions = range(start, min(n, start + BATCH))
            pieces = [Chunk(i, texts[i % len(texts)][:1_500], None, None, 200) for i in positions]
            await store_chunks(engine, tenant_id, document, collection, pieces)
            vectors = rng.normal(size=(len(pieces), 384)).astype(np.float32)
            vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
            async with engine.begin() as conn:
                await conn.execute(
                    sa.text(
                        "UPDATE chunks SET embedding = CAST(:vector AS vector) "
                        "WHERE tenant_id = :tenant_id AND document_id = :document_id AND position = :position"
                    ),
                    [
                        {"vector": str(v.tolist()), "tenant_id": tenant_id, "document_id": document.id, "position": i}
                        for i, v in zip(positions, vectors, strict=True)
                    ],
                )
        async with engine.connect() as conn:
            await conn.execute(sa.text("ANALYZE chunks"))
            await conn.execute(sa.text("ANALYZE chunk_terms"))
    finally:
        await engine.dispose()


async def run(platform: BenchPlatform, n: int, query_count: int) -> dict[str, list[float]]:
    texts, queries = sections_and_queries()
    queries = queries[:: max(1, len(queries) // query_count)][:query_count]
    api_key = await platform.new_tenant()
    headers = {"Authorization": f"Bearer {api_key}"}
    async with httpx.AsyncClient(timeout=60, headers=headers) as http:
        collection = await http.post(f"{platform.url('ingestion_service')}/api/v1/collections", json={"name": "b"})
        collection_id = collection.json()["id"]
        tenant_id = (await http.get(f"{platform.url('agent_management_service')}/api/v1/tenants/me")).json()["id"]
        await fill(platform, tenant_id, collection_id, n, texts)
        results: dict[str, list[float]] = {}
        for mode in ("vector", "text", "hybrid"):
            latencies = []
            for query in queries:
                body = {"query": query, "collection_ids": [collection_id], "top_k": 10, "mode": mode}
                sent = time.perf_counter()
                response = await http.post(f"{platform.url('query_service')}/api/v1/query/search", json=body)
                latencies.append(time.perf_counter() - sent)
                response.raise_for_status()
            cuts = quantiles(latencies, n=100, method="inclusive")
            results[mode] = [cuts[49] * 1000, cuts[94] * 1000, cuts[98] * 1000]
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--chunks", type=int, default=10_000)
    parser.add_argument("--queries", type=int, default=200)
    args = parser.parse_args()
    with BenchPlatform("search-latency") as platform:
        results = asyncio.run(run(platform, args.chunks, args.queries))
    print(f"search latency over {args.chunks} chunks in one collection, {args.queries} queries per mode")
    print(f"{'mode':<8} {'p50 ms':>8} {'p95 ms':>8} {'p99 ms':>8}")
    for mode, (p50, p95, p99) in results.items():
        print(f"{mode:<8} {p50:>8.1f} {p95:>8.1f} {p99:>8.1f}")


if __name__ == "__main__":
    main()
