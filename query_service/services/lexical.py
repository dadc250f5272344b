"""Lexical search: Okapi BM25 over the `chunk_terms` postings (migration 0008), in one SQL statement.

Why not `ts_rank_cd`: it has no inverse document frequency and no length normalisation, so a question's
common words weigh as much as its rare ones (measured in issue 14: nDCG@10 0.14-0.16 where BM25 scores
0.33-0.80). BM25 needs, per query term, how many chunks of the scope hold it and, per chunk, how often and how
long the chunk is; `chunk_terms` is an inverted index keyed by (tenant, collection, term) holding exactly
that, so a query reads only its own terms' postings, in its own scope — no other store, no extension.

score(chunk) = Σ_t idf(t) · tf·(k1+1) / (tf + k1·(1 - b + b·len/avglen)),  idf(t) = ln(1 + (N - df + ½)/(df + ½))

`text_share` is the score over the best any chunk could get for this query (every term, saturated): an absolute
0..1 measure of how well the words matched, comparable across queries, which a BM25 score is not.

OR semantics: a chunk matching any term is a candidate. Query terms come from `common.lexical`, exactly as the
chunks' terms did.
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncEngine

from common.contracts.query import SearchRequest
from common.lexical import lexical_text
from common.models.knowledge import SearchHit
from query_service.services.scope import DOCUMENT_OF_CHUNK, HIT_COLUMNS, SEARCHABLE_DOCUMENT

K1 = 1.2  # term frequency saturation
B = 0.75  # length normalisation

_BM25 = sa.text(f"""
WITH q AS (
    SELECT DISTINCT lexeme AS term
    FROM unnest(to_tsvector(CAST(:config AS regconfig), :prose) || to_tsvector('simple', :identifiers))
), stats AS MATERIALIZED (  -- computed once (inline, the planner may recompute it per posting)
    SELECT count(*)::float8 AS n, greatest(avg(term_count), 1)::float8 AS avg_length
    FROM chunks WHERE tenant_id = :tenant_id AND collection_id = ANY(:collection_ids)
), postings AS (  -- each with its term's document frequency (the index returns them in term order)
    SELECT p.term, p.chunk_id, p.document_id, p.tf, p.chunk_length, count(*) OVER (PARTITION BY p.term) AS df
    FROM chunk_terms p
    WHERE p.tenant_id = :tenant_id AND p.collection_id = ANY(:collection_ids)
      AND p.term = ANY(ARRAY(SELECT term FROM q))  -- an array, so the terms are a condition of the index scan
), scored AS (
    SELECT p.chunk_id, p.document_id,
           sum(ln(1 + (s.n - p.df + 0.5) / (p.df + 0.5))
               * p.tf * {K1 + 1} / (p.tf + {K1} * (1 - {B} + {B} * p.chunk_length / s.avg_length))) AS score
    FROM postings p, stats s GROUP BY p.chunk_id, p.document_id
), ideal AS (  -- the best score a chunk could get: every query term, saturated (terms found nowhere count most)
    SELECT sum(ln(1 + (s.n - coalesce(d.df, 0) + 0.5) / (coalesce(d.df, 0) + 0.5))) * {K1 + 1} AS score
    FROM q LEFT JOIN (SELECT term, max(df) AS df FROM postings GROUP BY term) d ON d.term = q.term, stats s
), best AS (  -- ranked on the postings alone; only the best chunks' rows are read
    SELECT scored.chunk_id, scored.score FROM scored
    JOIN documents d ON d.tenant_id = :tenant_id AND d.id = scored.document_id AND {SEARCHABLE_DOCUMENT}
    ORDER BY scored.score DESC, scored.chunk_id LIMIT :limit
)
SELECT {HIT_COLUMNS}, best.score, best.score / nullif((SELECT score FROM ideal), 0) AS text_share
FROM best JOIN chunks c ON c.id = best.chunk_id {DOCUMENT_OF_CHUNK}
ORDER BY best.score DESC, c.id
""")


async def text_search(
    engine: AsyncEngine, tenant_id: str, req: SearchRequest, limit: int, configs: dict[str, list[str]]
) -> list[SearchHit]:
    """The `limit` best chunks by BM25; `configs`: text search configuration → the collections using it."""
    terms = lexical_text(req.query)
    hits: list[SearchHit] = []
    async with engine.connect() as conn:
        for config, collection_ids in configs.items():
            params: dict[str, Any] = {
                "tenant_id": tenant_id,
                "collection_ids": collection_ids,
                "document_ids": req.document_ids,
                "config": config,
                "prose": terms.prose,
                "identifiers": terms.identifiers,
                "limit": limit,
            }
            rows = (await conn.execute(_BM25, params)).all()
            hits += [SearchHit(**row._asdict(), text_score=row.score) for row in rows]
    return sorted(hits, key=lambda hit: hit.score, reverse=True)[:limit]
