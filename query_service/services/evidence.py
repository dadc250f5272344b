"""Evidence: which sentences of the retrieved sections answer the query, and how well (0..1), comparable across
queries so that an answer can abstain when the best sentence is not good enough.

A sentence's score mixes what it means and what it says:
- dense: the cosine of its embedding (with its document title and heading, as the chunks were embedded) to the
  query's, in the collection's embedding model;
- lexical: the share of the query's content terms (stemmed, stop words out) that the sentence holds, each term
  weighted by how rare it is among the candidate sentences — a query term found in none of them (the thing asked
  about is not in the documents) weighs most. Terms found only in the sentence's heading count half.
"""

from __future__ import annotations

import math
import re
from collections import Counter

import numpy as np

from common.clients.base_redis_client import BaseRedisClient
from common.grounding import content_terms
from common.models.actions import DomainAction
from common.models.knowledge import Evidence, SearchHit

DENSE_WEIGHT = 0.55
EVIDENCE_PER_HIT = 3
MAX_CANDIDATES = 96  # sentences embedded per query
MAX_SENTENCE_WORDS = 60
MIN_SENTENCE_WORDS = 3
HEADING_SHARE = 0.5

_PARAGRAPH = re.compile(r"\n\s*\n")
# a short line without a sentence's end (a heading, a table cell, a PDF page's running title) stands alone
_SHORT_LINE = re.compile(r"^[^\n]{0,60}[^.,;:!?\n]$", re.MULTILINE)
_SENTENCE_END = re.compile(r"(?<=[\w)\]\"'][.!?])[\"')\]]?\s+(?=[\"'(\[]?[A-Z])")  # not after "...", not "e.g. x"
_LIST_ITEM = re.compile(r"\n(?=\s*(?:[-*\u2022]|\d+[.)])\s)")


def sentences(text: str) -> list[str]:
    """The text's sentences: paragraphs and list items first, then sentence ends; long ones cut into pieces of at
    most MAX_SENTENCE_WORDS words; fragments shorter than MIN_SENTENCE_WORDS dropped."""
    found: list[str] = []
    text = _SHORT_LINE.sub(lambda m: f"\n{m.group(0)}\n", text)
    for block in _PARAGRAPH.split(text):
        for item in _LIST_ITEM.split(block):
            for sentence in _SENTENCE_END.split(" ".join(item.split())):
                tokens = sentence.split()
                for start in range(0, len(tokens), MAX_SENTENCE_WORDS):
                    piece = tokens[start : start + MAX_SENTENCE_WORDS]
                    if len(piece) >= MIN_SENTENCE_WORDS:
                        found.append(" ".join(piece))
    return found


def _lexical_scores(query: str, candidates: list[tuple[int, str]], headings: list[str]) -> list[float]:
    wanted = content_terms(query)
    if not wanted:
        return [0.0] * len(candidates)
    sentence_terms = [set(content_terms(text)) for _, text in candidates]
    heading_terms = [set(content_terms(heading)) for heading in headings]
    frequency = Counter(term for terms in sentence_terms for term in terms if term in wanted)
    weights = {term: math.log(1 + (len(candidates) + 1) / (frequency[term] + 0.5)) for term in wanted}
    total = sum(weights.values())
    scores = []
    for (hit_index, _), terms in zip(candidates, sentence_terms, strict=True):
        own = sum(weights[t] for t in wanted if t in terms)
        from_heading = sum(weights[t] for t in wanted if t not in terms and t in heading_terms[hit_index])
        scores.append((own + HEADING_SHARE * from_heading) / total)
    return scores


async def with_evidence(
    embedding: BaseRedisClient, parent: DomainAction, query: str, hits: list[SearchHit], model_of: dict[str, str]
) -> list[SearchHit]:
    """The hits, each with its best sentences (`evidence`) and the best one's score (`relevance`).
    `model_of`: collection id → its embedding model. Sections (`context`) must already be there."""
    candidates: list[tuple[int, str]] = []  # (hit index, sentence)
    for index, hit in enumerate(hits):
        for sentence in dict.fromkeys(sentences(hit.context or hit.content)):
            candidates.append((index, sentence))
    candidates = candidates[:MAX_CANDIDATES]
    if not candidates:
        return [hit.model_copy(update={"evidence": [], "relevance": 0.0}) for hit in hits]
    headings = [f"{hit.document_title} {hit.heading or ''}" for hit in hits]
    lexical = _lexical_scores(query, candidates, headings)
    dense = [0.0] * len(candidates)
    for model in dict.fromkeys(model_of[hit.collection_id] for hit in hits):
        chosen = [i for i, (hit_index, _) in enumerate(candidates) if model_of[hits[hit_index].collection_id] == model]
        texts = [query, *(f"{headings[candidates[i][0]]}: {candidates[i][1]}" for i in chosen)]
        action = embedding.follow_up(parent, "embedding.generate", {"texts": texts, "model": model})
        vectors = np.asarray((await embedding.call(action, timeout=30))["embeddings"], dtype=np.float32)
        vectors /= np.maximum(np.linalg.norm(vectors, axis=1, keepdims=True), 1e-12)
        for i, similarity in zip(chosen, vectors[1:] @ vectors[0], strict=True):
            dense[i] = float(similarity)
    by_hit: list[list[Evidence]] = [[] for _ in hits]
    for (hit_index, text), lex, den in zip(candidates, lexical, dense, strict=True):
        score = DENSE_WEIGHT * max(den, 0.0) + (1 - DENSE_WEIGHT) * lex
        by_hit[hit_index].append(Evidence(text=text, score=round(score, 4)))
    out = []
    for hit, found in zip(hits, by_hit, strict=True):
        best = sorted(found, key=lambda evidence: -evidence.score)[:EVIDENCE_PER_HIT]
        out.append(hit.model_copy(update={"evidence": best, "relevance": best[0].score if best else 0.0}))
    return out
