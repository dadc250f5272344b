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
from common.contracts.embedding import GENERATE as GENERATE_EMBEDDINGS
from common.contracts.embedding import EmbedRequest
from common.grounding import content_terms
from common.models.actions import DomainAction
from common.models.knowledge import Evidence, SearchHit

DENSE_WEIGHT = 0.55
EVIDENCE_PER_HIT = 3
MAX_CANDIDATES = 160  # sentences embedded per query
MIN_LETTERS_SHARE = 0.5  # a "sentence" of dot leaders or a table of numbers is no evidence
MAX_SENTENCE_WORDS = 60
MIN_SENTENCE_WORDS = 3
HEADING_SHARE = 0.5
HEADING_MAX_WORDS = 8

_PARAGRAPH = re.compile(r"\n\s*\n")
_NUMBERED_HEADING = re.compile(r"^\s*\d+(?:\.\d+)*\.?\s+\S")
_STARTS_A_LINE = re.compile(r"^\s*(?:[A-Z0-9\-\u2022*]|--)")
# a sentence that leans on the one before it ("It helps you ...", "This means ...") is quoted with it
_LEANS_BACK = re.compile(r"^(?:It|Its|This|That|These|Those|They|Their|He|She|Such|So|Thus|Then)\b")
_SENTENCE_END = re.compile(r"(?<=[\w)\]\"'][.!?])[\"')\]]?\s+(?=[\"'(\[]?[A-Z])")  # not after "...", not "e.g. x"
_LIST_ITEM = re.compile(r"\n(?=\s*(?:[-*\u2022]|\d+[.)])\s)")


def _standalone(line: str, following: str) -> bool:
    """A line that is not part of a wrapped sentence: a heading, an option's synopsis, a table row, a running title —
    short, not ending like a sentence's middle, and followed by a line that starts anew (or a numbered heading)."""
    words = line.split()
    if not words or len(words) > HEADING_MAX_WORDS or line.rstrip().endswith((".", ",", ";", ":", "!", "?")):
        return False
    return bool(_NUMBERED_HEADING.match(line) or not following or _STARTS_A_LINE.match(following))


def _with_standalone_lines(text: str) -> str:
    lines = text.split("\n")
    out = []
    for index, line in enumerate(lines):
        following = next((n for n in lines[index + 1 :] if n.strip()), "")
        if _standalone(line, following):
            out.append(f"\n{line}\n")
        else:  # a line ending a sentence ends it, whatever starts the next line ("... there.\nlp The lp* ...")
            out.append(f"{line}\n" if line.rstrip().endswith((".", "!", "?")) else line)
    return "\n".join(out)


def sentences(text: str) -> list[str]:
    """The text's sentences: paragraphs, standalone lines and list items first, then sentence ends; long ones cut
    into pieces of at most MAX_SENTENCE_WORDS words; fragments shorter than MIN_SENTENCE_WORDS dropped."""
    found: list[str] = []
    for block in _PARAGRAPH.split(_with_standalone_lines(text)):
        for item in _LIST_ITEM.split(block):
            for sentence in _SENTENCE_END.split(" ".join(item.split())):
                tokens = sentence.split()
                for start in range(0, len(tokens), MAX_SENTENCE_WORDS):
                    piece = tokens[start : start + MAX_SENTENCE_WORDS]
                    if len(piece) >= MIN_SENTENCE_WORDS:
                        found.append(" ".join(piece))
    return found


def evidence_units(text: str) -> list[str]:
    """What may be quoted: the sentences, a question joined with the sentence that answers it (FAQs), and a
    sentence that leans on the one before ("It helps you ...") joined with it."""
    found = sentences(text)
    units: list[str] = []
    for index, sentence in enumerate(found):
        if sentence.endswith("?"):
            if index + 1 < len(found):
                units.append(f"{sentence} {found[index + 1]}")
        elif index and _LEANS_BACK.match(sentence) and not found[index - 1].endswith("?"):
            units.append(f"{found[index - 1]} {sentence}")
        else:
            units.append(sentence)
    return units


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
        for sentence in dict.fromkeys(evidence_units(hit.context or hit.content)):
            letters = sum(char.isalpha() for char in sentence)
            if letters >= MIN_LETTERS_SHARE * len(sentence.replace(" ", "")):
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
        reply = await embedding.call(GENERATE_EMBEDDINGS, EmbedRequest(texts=texts, model=model), parent=parent)
        vectors = np.asarray(reply.embeddings, dtype=np.float32)
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
