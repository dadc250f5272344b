"""Answer quality of the default setup: do answers state the fact, cite the right document, and abstain when the
documents hold no answer — through the chat WebSocket and `query.generate`, with the real local model.

    python -m bench.answers [--styles quote model] [--paths chat generate] [--split all|dev|test] [--limit N]

The documents are manuals that Debian packages install (bench/datasets/answers.json names the packages: a 38-page
PDF, a 397-page PDF, an HTML page and a text FAQ); the questions and their facts are in the same file. Steps:

1. the four documents are ingested into one collection of a new tenant, on a platform started for the run
   (`nooble4 up` with the bundled SmolLM2-135M behind the `local` provider);
2. relevance: every question is searched as a chat turn searches it (hybrid, evidence); the best relevance of the
   answerable and unanswerable questions is printed per threshold, and the threshold that best separates them
   on the `dev` questions is reported (the product's default, `DEFAULT_MIN_RELEVANCE`, was chosen this way);
3. answers: each question is asked in a fresh conversation of a *Knowledge-base Q&A* template agent (chat), and
   of `query.generate`, per answer style; an answer states the fact when it matches the fact's pattern, cites the
   right document when one of its [n] names a source from that document, abstains when it is the abstain message.

Prints one table per split, and writes every answer to `.artifacts/answers.json`.
"""

from __future__ import annotations

import argparse
import asyncio
import gzip
import json
import re
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

from bench.chat import chat_socket
from bench.ingestion import followed
from bench.running_platform import ROOT, BenchPlatform
from common.grounding import cited
from common.models.knowledge import DEFAULT_ABSTAIN_MESSAGE, DEFAULT_MIN_RELEVANCE

DATASET = Path(__file__).parent / "datasets" / "answers.json"
TOP_K = 4
TURN_TIMEOUT_S = 180


def documents(dataset: dict[str, Any]) -> dict[str, bytes]:
    """file name → bytes, read from the Debian packages' documentation (gunzipped where needed)."""
    out = {}
    for doc in dataset["documents"]:
        path = Path(doc["path"])
        if not path.exists():
            raise SystemExit(f"{path} is missing: apt-get install {doc['package']}")
        raw = path.read_bytes()
        out[doc["id"]] = gzip.decompress(raw) if path.suffix == ".gz" else raw
    return out


@dataclass
class Asked:
    question: str
    answerable: bool
    split: str
    fact: str | None = None
    doc: str | None = None
    answer: str = ""
    sources: list[dict[str, Any]] = field(default_factory=list)
    first_token_s: float | None = None
    total_s: float = 0.0
    error: str | None = None

    @property
    def abstained(self) -> bool:
        return self.answer.strip() == DEFAULT_ABSTAIN_MESSAGE

    @property
    def fact_found(self) -> bool:
        return bool(self.fact and not self.abstained and re.search(self.fact, self.answer, re.IGNORECASE))

    @property
    def right_source_cited(self) -> bool:
        numbers = cited(self.answer, len(self.sources))
        return any(self.sources[n - 1]["source"] == self.doc for n in numbers)


class Client:
    def __init__(self, platform: BenchPlatform, api_key: str):
        self.platform = platform
        self.api_key = api_key
        self.http = httpx.AsyncClient(timeout=TURN_TIMEOUT_S, headers={"Authorization": f"Bearer {api_key}"})

    async def post(self, service: str, path: str, **kwargs: Any) -> Any:
        response = await self.http.post(f"{self.platform.url(service)}{path}", **kwargs)
        response.raise_for_status()
        return response.json()

    async def ingest(self, collection_id: str, files: dict[str, bytes]) -> None:
        tasks = []
        for name, content in files.items():
            accepted = await self.post(
                "ingestion_service",
                "/api/v1/documents",
                data={"collection_id": collection_id},
                files={"file": (name, content)},
            )
            tasks.append(accepted["task_id"])
        for task_id in tasks:  # each task's end, from its progress socket
            task = await followed(self.http, self.platform.url("ingestion_service"), self.api_key, task_id)
            if task["status"] != "done":
                raise SystemExit(f"ingestion failed: {task}")

    async def best_relevance(self, question: str, collection_id: str) -> float:
        body = {"query": question, "collection_ids": [collection_id], "top_k": TOP_K, "with_evidence": True}
        hits = (await self.post("query_service", "/api/v1/query/search", json=body))["results"]
        return max((hit["relevance"] for hit in hits), default=0.0)

    async def generate(self, asked: Asked, collection_id: str, style: str) -> None:
        body = {"query": asked.question, "collection_ids": [collection_id], "top_k": TOP_K, "answer_style": style}
        started = time.perf_counter()
        try:
            reply = await self.post("query_service", "/api/v1/query/generate", json=body)
            asked.answer, asked.sources = reply["answer"], reply["sources"]
        except httpx.HTTPError as exc:
            asked.error = str(exc)
        asked.total_s = time.perf_counter() - started

    async def chat(self, asked: Asked, agent_id: str) -> None:
        async with chat_socket(self.platform, self.api_key, agent_id) as ws:
            started = time.perf_counter()
            await ws.send(json.dumps({"type": "message", "content": asked.question}))
            while True:
                event = json.loads(await asyncio.wait_for(ws.recv(), TURN_TIMEOUT_S))
                if event["type"] == "token" and asked.first_token_s is None:
                    asked.first_token_s = time.perf_counter() - started
                elif event["type"] == "message_end":
                    asked.answer, asked.sources = event["content"], event["sources"]
                    break
                elif event["type"] == "error":
                    asked.error = f"{event['code']}: {event['message']}"
                    break
        asked.total_s = time.perf_counter() - started


def questions(dataset: dict[str, Any], split: str, limit: int | None) -> list[Asked]:
    chosen = [
        *(Asked(q["q"], True, q["split"], q["fact"], q["doc"]) for q in dataset["answerable"]),
        *(Asked(q["q"], False, q["split"]) for q in dataset["unanswerable"]),
    ]
    chosen = [a for a in chosen if split == "all" or a.split == split]
    return chosen[:limit] if limit else chosen


def calibration(relevance: list[tuple[Asked, float]]) -> None:
    """Per threshold: answerable questions kept, unanswerable ones abstained on (dev and test apart). The threshold
    chosen on dev: the middle of the thresholds that abstain most while keeping >= 90 % of the answerable."""
    print("\nRelevance threshold (best sentence score of the top 4 hits): share answered / abstained")
    header = ("threshold", "dev: answerable kept", "unanswerable abstained", "test: kept", "abstained")
    print(f"{header[0]:>9}  {header[1]:>21} {header[2]:>23}  {header[3]:>11} {header[4]:>10}")
    candidates: list[tuple[float, float]] = []  # (dev abstained, threshold) keeping >= 90 %
    for step in range(20, 71, 2):
        threshold = step / 100
        row = []
        for split in ("dev", "test"):
            yes = [r for a, r in relevance if a.answerable and a.split == split]
            no = [r for a, r in relevance if not a.answerable and a.split == split]
            row += [
                sum(r >= threshold for r in yes) / max(len(yes), 1),
                sum(r < threshold for r in no) / max(len(no), 1),
            ]
        if row[0] >= 0.9:
            candidates.append((row[1], threshold))
        marker = "  <- default" if abs(threshold - DEFAULT_MIN_RELEVANCE) < 1e-9 else ""
        print(f"{threshold:>9.2f}  {row[0]:>21.0%} {row[1]:>23.0%}  {row[2]:>11.0%} {row[3]:>10.0%}{marker}")
    if candidates:
        most = max(abstained for abstained, _ in candidates)
        plateau = [threshold for abstained, threshold in candidates if abstained == most]
        print(f"chosen on dev: {plateau[len(plateau) // 2]:.2f} (abstains on {most:.0%} of dev's unanswerable)")


def report(title: str, asked: list[Asked]) -> None:
    answerable = [a for a in asked if a.answerable]
    unanswerable = [a for a in asked if not a.answerable]
    firsts = sorted(a.first_token_s for a in asked if a.first_token_s is not None)
    totals = sorted(a.total_s for a in asked)

    def share(items: list[Asked], test: Any) -> str:
        return f"{sum(map(test, items))}/{len(items)} ({sum(map(test, items)) / max(len(items), 1):.0%})"

    print(
        f"{title:<28} fact {share(answerable, lambda a: a.fact_found):>12}  "
        f"cited {share(answerable, lambda a: a.right_source_cited):>12}  "
        f"abstained rightly {share(unanswerable, lambda a: a.abstained):>12}  "
        f"wrongly {share(answerable, lambda a: a.abstained):>12}  "
        f"errors {sum(a.error is not None for a in asked)}  "
        f"1st token p50 {firsts[len(firsts) // 2] if firsts else float('nan'):.2f} s  "
        f"total p50 {totals[len(totals) // 2]:.2f} s, max {totals[-1]:.2f} s"
    )


async def run(args: argparse.Namespace) -> None:
    dataset = json.loads(DATASET.read_text())
    files = documents(dataset)
    with BenchPlatform("answers", NOOBLE4_LOCAL_CHAT_MODEL="llama") as platform:
        client = Client(platform, await platform.new_tenant())
        collection = (await client.post("ingestion_service", "/api/v1/collections", json={"name": "manuals"}))["id"]
        started = time.perf_counter()
        await client.ingest(collection, files)
        print(f"ingested {len(files)} documents in {time.perf_counter() - started:.0f} s")

        everything = questions(dataset, "all", None)
        relevance = [(a, await client.best_relevance(a.question, collection)) for a in everything]
        calibration(relevance)

        results: dict[str, list[Asked]] = {}
        for style in args.styles:
            if "chat" in args.paths:
                template = {"template_id": "knowledge-base-qa", "collection_ids": [collection]}
                agent = await client.post("agent_management_service", "/api/v1/agents/from-template", json=template)
                patch = {"knowledge": {**agent["knowledge"], "answer_style": style}}
                response = await client.http.patch(
                    f"{platform.url('agent_management_service')}/api/v1/agents/{agent['id']}", json=patch
                )
                response.raise_for_status()
                asked = questions(dataset, args.split, args.limit)
                for item in asked:
                    await client.chat(item, agent["id"])
                results[f"chat, {style}"] = asked
            if "generate" in args.paths:
                asked = questions(dataset, args.split, args.limit)
                for item in asked:
                    await client.generate(item, collection, style)
                results[f"generate, {style}"] = asked
        await client.http.aclose()

    for split in ("dev", "test", "all"):
        print(f"\nAnswers, {split} questions (bundled SmolLM2-135M; top_k {TOP_K}):")
        for title, asked in results.items():
            chosen = [a for a in asked if split == "all" or a.split == split]
            if chosen:
                report(title, chosen)
    out = ROOT / ".artifacts" / "answers.json"
    out.parent.mkdir(exist_ok=True)
    out.write_text(json.dumps({title: [vars(a) for a in asked] for title, asked in results.items()}, indent=1))
    print(f"\nevery answer: {out}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--styles", nargs="+", default=["quote", "model"], choices=["quote", "model"])
    parser.add_argument("--paths", nargs="+", default=["chat", "generate"], choices=["chat", "generate"])
    parser.add_argument("--split", default="all", choices=["all", "dev", "test"])
    parser.add_argument("--limit", type=int, default=None)
    asyncio.run(run(parser.parse_args()))


if __name__ == "__main__":
    main()
