"""Match on chunks, answer from sections: each hit's `context` is the run of chunks around it under the same
heading of the same document (its section), joined without the chunk overlaps, grown outwards from the hit
while it fits a token budget. Small chunks rank precisely; the model reading them gets the whole answer."""

from __future__ import annotations

from collections import defaultdict

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncEngine

from common.models.knowledge import SearchHit

MAX_NEIGHBOURS = 12  # chunks read on each side of a hit
MIN_OVERLAP_CHARS = 20

_NEIGHBOURS = sa.text(
    """
    SELECT h.i, c.position, c.content, c.token_count
    FROM unnest(CAST(:document_ids AS text[]), CAST(:positions AS int[]), CAST(:headings AS text[]))
        WITH ORDINALITY AS h(document_id, position, heading, i)
    JOIN chunks c ON c.tenant_id = :tenant_id AND c.document_id = h.document_id
        AND c.heading IS NOT DISTINCT FROM h.heading
        AND c.position BETWEEN h.position - :reach AND h.position + :reach
    ORDER BY h.i, c.position
    """
)


def join_overlapping(left: str, right: str) -> str:
    """`left` + `right` without the text they share (a chunk begins with the end of the one before it)."""
    for size in range(min(len(left), len(right)), MIN_OVERLAP_CHARS - 1, -1):
        if left.endswith(right[:size]):
            return left + right[size:]
    return f"{left}\n{right}"


def _section(hit: SearchHit, neighbours: dict[int, tuple[str, int]], max_tokens: int) -> str:
    """The contiguous chunks around the hit, added nearest first, while their tokens fit `max_tokens`."""
    first = last = hit.position
    used = neighbours.get(hit.position, (hit.content, 0))[1]
    grown = True
    while grown:
        grown = False
        for candidate in (first - 1, last + 1):
            if candidate in neighbours and used + neighbours[candidate][1] <= max_tokens:
                used += neighbours[candidate][1]
                first, last = min(first, candidate), max(last, candidate)
                grown = True
    text = neighbours.get(first, (hit.content, 0))[0]
    for position in range(first + 1, last + 1):
        text = join_overlapping(text, neighbours[position][0])
    return text


async def with_sections(engine: AsyncEngine, tenant_id: str, hits: list[SearchHit], max_tokens: int) -> list[SearchHit]:
    """The hits, each with its section as `context` (at most `max_tokens` tokens, never less than the hit)."""
    if not hits:
        return hits
    params = {
        "tenant_id": tenant_id,
        "document_ids": [hit.document_id for hit in hits],
        "positions": [hit.position for hit in hits],
        "headings": [hit.heading for hit in hits],
        "reach": MAX_NEIGHBOURS,
    }
    by_hit: dict[int, dict[int, tuple[str, int]]] = defaultdict(dict)
    async with engine.connect() as conn:
        for row in await conn.execute(_NEIGHBOURS, params):
            by_hit[row.i - 1][row.position] = (row.content, row.token_count)
    return [
        hit.model_copy(update={"context": _section(hit, by_hit[index], max_tokens)}) for index, hit in enumerate(hits)
    ]
