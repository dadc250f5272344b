"""Retrieval quality and speed on any BEIR-format dataset, through the running platform, beside reference
methods computed on the same data in the same run.

    python -m bench.retrieval DATASET_DIR [--k 10] [--limit-docs N] [--limit-queries N] [--text-weights W ...]

DATASET_DIR holds `corpus.jsonl` ({_id, title, text}), `queries.jsonl` ({_id, text}) and `qrels/test.tsv`
(query-id, corpus-id, score). Each corpus entry is ingested as one text document (title = its id) through
the ingestion service; then every test query is searched in vector, text and hybrid mode through the query
service. Prints recall@k, MRR@10 and nDCG@10 per mode (document level: a document's best chunk counts),
ingestion throughput (chunks/s, upload to indexed) and search latency p50/p99. The references rank whole
corpus entries: `ref bm25` (bm25s, English stop words and Snowball stemmer), `ref dense` (all-MiniLM-L6-v2,
the product's own local model, one vector per entry) and `ref rrf-60` of the two.
`bench/datasets/lumora` is a small set written for the project; `python -m bench.datasets.debian_docs` builds
two larger ones from documentation installed by Debian packages.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import math
import time
from pathlib import Path
from statistics import quantiles
from typing import Any

import httpx
from websockets.asyncio.client import connect

from bench.running_platform import BenchPlatform
from embedding_service.services.providers import LocalMiniLM

MODES = ("vector", "text", "hybrid")


def load(dataset: Path, limit_docs: int | None, limit_queries: int | None):
    corpus = [json.loads(line) for line in (dataset / "corpus.jsonl").read_text().splitlines() if line.strip()]
    queries = {q["_id"]: q["text"] for q in map(json.loads, (dataset / "queries.jsonl").read_text().splitlines())}
    qrels: dict[str, dict[str, int]] = {}
    for line in (dataset / "qrels" / "test.tsv").read_text().splitlines()[1:]:
        query_id, corpus_id, score = line.split("\t")[:3]
        if int(score) > 0:
            qrels.setdefault(query_id, {})[corpus_id] = int(score)
    corpus = corpus[:limit_docs] if limit_docs else corpus
    kept = {doc["_id"] for doc in corpus}
    qrels = {q: {d: s for d, s in rel.items() if d in kept} for q, rel in qrels.items()}
    qrels = {q: rel for q, rel in qrels.items() if rel and q in queries}
    if limit_queries:
        qrels = dict(list(qrels.items())[:limit_queries])
    return corpus, queries, qrels


def scores_for(ranked: list[str], relevant: dict[str, int], k: int) -> tuple[float, float, float]:
    recall = len(set(ranked[:k]) & set(relevant)) / len(relevant)
    mrr = next((1 / rank for rank, doc in enumerate(ranked[:10], start=1) if doc in relevant), 0.0)
    dcg = sum((2 ** relevant.get(doc, 0) - 1) / math.log2(rank + 1) for rank, doc in enumerate(ranked[:10], start=1))
    ideal = sorted(relevant.values(), reverse=True)[:10]
    idcg = sum((2**grade - 1) / math.log2(rank + 1) for rank, grade in enumerate(ideal, start=1))
    return recall, mrr, dcg / idcg if idcg else 0.0


def references(corpus: list[dict], queries: dict[str, str], qrels: dict[str, dict[str, int]], k: int):
    """recall@k, MRR@10 and nDCG@10 of BM25, dense and their RRF over whole corpus entries."""
    import bm25s
    import numpy as np
    import Stemmer

    ids = [doc["_id"] for doc in corpus]
    texts = [f"{doc.get('title', '')}\n\n{doc['text']}".strip() for doc in corpus]
    query_ids = list(qrels)
    stemmer = Stemmer.Stemmer("english")
    bm25 = bm25s.BM25()
    bm25.index(bm25s.tokenize(texts, stopwords="en", stemmer=stemmer, show_progress=False), show_progress=False)
    tokens = bm25s.tokenize([queries[q] for q in query_ids], stopwords="en", stemmer=stemmer, show_progress=False)
    found, _ = bm25.retrieve(tokens, k=min(100, len(ids)), show_progress=False)
    lexical = {q: [ids[i] for i in row] for q, row in zip(query_ids, found, strict=True)}
    model = LocalMiniLM()
    vectors = np.vstack([model.embed_sync(texts[i : i + 64]) for i in range(0, len(texts), 64)])
    asked = model.embed_sync([queries[q] for q in query_ids])
    dense = {q: [ids[i] for i in np.argsort(-(vectors @ v))[:100]] for q, v in zip(query_ids, asked, strict=True)}

    def rrf(q: str) -> list[str]:
        fused: dict[str, float] = {}
        for ranking in (lexical[q], dense[q]):
            for rank, doc in enumerate(ranking, start=1):
                fused[doc] = fused.get(doc, 0.0) + 1 / (60 + rank)
        return sorted(fused, key=lambda doc: -fused[doc])

    results = {}
    for label, ranked in (("ref bm25", lexical.get), ("ref dense", dense.get), ("ref rrf-60", rrf)):
        totals = [0.0, 0.0, 0.0]
        for q in query_ids:
            for i, value in enumerate(scores_for(ranked(q) or [], qrels[q], k)):
                totals[i] += value
        results[label] = [t / len(query_ids) for t in totals] + [float("nan"), float("nan")]
    return results


def words(text: str) -> set[str]:
    return set(text.lower().split())


async def section_coverage(
    http: httpx.AsyncClient,
    query: str,
    collection: str,
    corpus: list[dict],
    queries: dict[str, str],
    qrels: dict[str, dict[str, int]],
) -> list[float]:
    """How much of the judged section the top 3 hybrid hits hold (share of its distinct words, best hit): the
    chunk alone vs the hit's section context (`with_context`), as a grounded answer reads them."""
    texts = {doc["_id"]: words(doc["text"]) for doc in corpus}
    chunk_total = context_total = 0.0
    for query_id, relevant in qrels.items():
        body = {"query": queries[query_id], "collection_ids": [collection], "top_k": 3, "with_context": True}
        hits = (await http.post(f"{query}/api/v1/query/search", json=body)).json()["results"]
        best_chunk = best_context = 0.0
        for hit in hits:
            gold = texts.get(hit["document_title"]) if hit["document_title"] in relevant else None
            if gold:
                best_chunk = max(best_chunk, len(gold & words(hit["content"])) / len(gold))
                best_context = max(best_context, len(gold & words(hit["context"] or "")) / len(gold))
        chunk_total += best_chunk
        context_total += best_context
    return [chunk_total / len(qrels), context_total / len(qrels)]


async def run(
    platform: BenchPlatform,
    dataset: Path,
    k: int,
    limit_docs: int | None,
    limit_queries: int | None,
    text_weights: list[float],
    save_candidates: Path | None = None,
):
    corpus, queries, qrels = load(dataset, limit_docs, limit_queries)
    api_key = await platform.new_tenant()
    ingestion, query = platform.url("ingestion_service"), platform.url("query_service")
    async with httpx.AsyncClient(timeout=120, headers={"Authorization": f"Bearer {api_key}"}) as http:
        collection = (await http.post(f"{ingestion}/api/v1/collections", json={"name": dataset.name})).json()["id"]
        started = time.perf_counter()
        gate = asyncio.Semaphore(16)

        async def upload(doc: dict) -> str:
            async with gate:
                text = f"{doc.get('title', '')}\n\n{doc['text']}".strip()
                body = {"collection_id": collection, "title": doc["_id"], "text": text}
                accepted = (await http.post(f"{ingestion}/api/v1/documents/text", json=body)).json()
                return accepted["task_id"]

        task_ids = [t for t in await asyncio.gather(*(upload(doc) for doc in corpus)) if t]
        chunks = 0
        for task_id in task_ids:  # the task's progress socket closes when it has ended
            url = ingestion.replace("http", "ws", 1) + f"/ws/ingestion/{task_id}?token={api_key}"
            async with connect(url) as ws:
                events = [json.loads(raw) async for raw in ws]
            chunks += events[-1]["chunks_total"]
        ingest_s = time.perf_counter() - started
        results = {}
        variants: list[tuple[str, dict[str, Any]]] = [(mode, {"mode": mode}) for mode in MODES]
        variants += [
            (f"hybrid {fusion} w={w:g}", {"mode": "hybrid", "fusion": fusion, "text_weight": w})
            for fusion in ("score", "rrf")
            for w in text_weights
        ]
        for label, variant in variants:
            totals, latencies = [0.0, 0.0, 0.0], []
            for query_id, relevant in qrels.items():
                body = {"query": queries[query_id], "collection_ids": [collection], "top_k": max(k, 10), **variant}
                sent = time.perf_counter()
                hits = (await http.post(f"{query}/api/v1/query/search", json=body)).json()["results"]
                latencies.append(time.perf_counter() - sent)
                ranked = list(dict.fromkeys(hit["document_title"] for hit in hits))
                for i, value in enumerate(scores_for(ranked, relevant, k)):
                    totals[i] += value
            cuts = quantiles(latencies, n=100, method="inclusive")
            results[label] = [t / len(qrels) for t in totals] + [cuts[49] * 1000, cuts[98] * 1000]
        results["coverage"] = await section_coverage(http, query, collection, corpus, queries, qrels)
        saved: dict = {"qrels": qrels}
        if save_candidates:  # each mode's 40 best hits per query, to study fusion offline
            for mode in ("vector", "text"):
                saved[mode] = {}
                for query_id in qrels:
                    body = {"query": queries[query_id], "collection_ids": [collection], "top_k": 40, "mode": mode}
                    hits = (await http.post(f"{query}/api/v1/query/search", json=body)).json()["results"]
                    saved[mode][query_id] = [
                        [hit["document_title"], hit["score"], hit["chunk_id"], hit.get("text_share")] for hit in hits
                    ]
    if save_candidates:
        await asyncio.to_thread(save_candidates.write_text, json.dumps(saved))
    return len(corpus), len(qrels), chunks, ingest_s, references(corpus, queries, qrels, k) | results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("dataset", type=Path)
    parser.add_argument("--k", type=int, default=10)
    parser.add_argument("--limit-docs", type=int)
    parser.add_argument("--limit-queries", type=int)
    parser.add_argument(
        "--text-weights",
        type=float,
        nargs="*",
        default=[],
        help="also hybrid with each fusion method and these text-ranking weights",
    )
    parser.add_argument("--save-candidates", type=Path, help="write each mode's 40 best hits per query (JSON)")
    args = parser.parse_args()
    with BenchPlatform("retrieval") as platform:
        docs, queries, chunks, ingest_s, results = asyncio.run(
            run(
                platform,
                args.dataset,
                args.k,
                args.limit_docs,
                args.limit_queries,
                args.text_weights,
                args.save_candidates,
            )
        )
    print(f"dataset {args.dataset.name}: {docs} documents, {queries} queries with judgements")
    print(f"ingestion: {chunks} chunks in {ingest_s:.1f} s = {chunks / ingest_s:.1f} chunks/s (upload to indexed)")
    print(f"{'mode':<20} {'recall@' + str(args.k):>10} {'MRR@10':>8} {'nDCG@10':>8} {'p50 ms':>8} {'p99 ms':>8}")
    chunk_share, context_share = results.pop("coverage")
    for mode, (recall, mrr, ndcg, p50, p99) in results.items():
        print(f"{mode:<20} {recall:>10.3f} {mrr:>8.3f} {ndcg:>8.3f} {p50:>8.1f} {p99:>8.1f}")
    print(f"judged section's words held by the top 3 hybrid hits: chunk {chunk_share:.3f}, context {context_share:.3f}")


if __name__ == "__main__":
    main()
