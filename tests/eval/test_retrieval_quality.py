"""Retrieval quality on a small question set written for the project (`tests/eval/fixtures`, `questions.json`).

Each question names the passage that answers it; recall@5 and MRR are printed for vector, text and hybrid
search, and hybrid must be at least as good as the better of the two on both.
"""

from __future__ import annotations

import json
from pathlib import Path

from tests.support.platform import ChatPlatform, Knowledge

HERE = Path(__file__).parent
MODES = ("vector", "text", "hybrid")


def metrics(ranks: list[int | None], k: int = 5) -> tuple[float, float]:
    """recall@k and MRR (over the full returned list) from the 1-based rank of each expected passage."""
    recall = sum(1 for rank in ranks if rank is not None and rank <= k) / len(ranks)
    mrr = sum(1 / rank for rank in ranks if rank is not None) / len(ranks)
    return recall, mrr


async def test_hybrid_is_at_least_as_good_as_vector_or_text(chat_platform: ChatPlatform) -> None:
    questions = json.loads((HERE / "questions.json").read_text())
    key = await chat_platform.new_tenant()
    async with Knowledge(chat_platform, key) as kb:
        collection = await kb.collection("eval", chunk_size=60, chunk_overlap=0)
        for path in sorted((HERE / "fixtures").glob("*.md")):
            assert (await kb.ingested(collection, path.name, path.read_bytes()))["status"] == "done"
        table = {}
        for mode in MODES:
            ranks = []
            for item in questions:
                response = await kb.search(item["question"], [collection], mode=mode, top_k=10)
                contents = [hit["content"] for hit in response.json()["results"]]
                ranks.append(next((i for i, c in enumerate(contents, start=1) if item["expect"] in c), None))
            table[mode] = metrics(ranks)
    print(f"\n{'mode':<8} {'recall@5':>9} {'MRR':>6}   ({len(questions)} questions)")
    for mode, (recall, mrr) in table.items():
        print(f"{mode:<8} {recall:>9.3f} {mrr:>6.3f}")
    best_recall = max(table["vector"][0], table["text"][0])
    best_mrr = max(table["vector"][1], table["text"][1])
    assert table["hybrid"][0] >= best_recall
    assert table["hybrid"][1] >= best_mrr
