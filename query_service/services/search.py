"""Retrieval over the knowledge base: pgvector cosine, PostgreSQL full text, and their reciprocal rank fusion.

Every query is scoped by tenant and collection ids (and optional document ids), and only sees chunks of
documents that finished ingesting (`status = 'ready'`).
"""

from __future__ import annotations

import re
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncEngine

from common.clients.base_redis_client import BaseRedisClient
from common.embedding_models import EMBEDDING_DIMENSIONS
from common.errors import NotFoundError
from common.knowledge_tables import collections
from common.models.actions import DomainAction
from query_service.models.search import SearchHit, SearchMode, SearchRequest

_HIT_COLUMNS = """
    c.id AS chunk_id, c.document_id, c.collection_id, d.title AS document_title, d.source, c.content,
    c.position, c.page, c.heading
"""
_SCOPE = """
    FROM chunks c
    JOIN documents d ON d.tenant_id = c.tenant_id AND d.id = c.document_id AND d.status = 'ready'
    WHERE c.tenant_id = :tenant_id AND c.collection_id = ANY(:collection_ids)
      AND (CAST(:document_ids AS text[]) IS NULL OR c.document_id = ANY(CAST(:document_ids AS text[])))
"""
# OR of the query's stemmed words (plainto_tsquery alone would demand all of them)
_TSQUERY = "to_tsquery('english', replace(plainto_tsquery('english', :query)::text, '&', '|'))"
# Identifier-like words of a query (dotted, snake_case, camelCase, paths): each also matches its parts, all of
# them, in the `simple` half of the index (migration 0007)
IDENTIFIER = re.compile(r"\b[A-Za-z_][\w]*(?:[.:/-][\w]+)+\b|\b\w+_\w+\b|\b[a-z]+[A-Z]\w*\b")
MAX_IDENTIFIERS = 5


def identifier_parts(query: str) -> list[str]:
    """`loop.call_at` → `loop call at`, `getUserName` → `get User Name`, one string per identifier."""
    parts = []
    for identifier in IDENTIFIER.findall(query)[:MAX_IDENTIFIERS]:
        spaced = re.sub(r"([a-z0-9])([A-Z])", r"\1 \2", identifier)
        parts.append(re.sub(r"[._:/\-]+", " ", spaced))
    return parts


async def _models_of(engine: AsyncEngine, tenant_id: str, collection_ids: list[str]) -> dict[str, list[str]]:
    """Embedding model → the requested collections using it; NotFoundError if one is not the tenant's."""
    async with engine.connect() as conn:
        rows = (
            await conn.execute(
                sa.select(collections.c.id, collections.c.embedding_model).where(
                    collections.c.tenant_id == tenant_id, collections.c.id.in_(collection_ids)
                )
            )
        ).all()
    missing = set(collection_ids) - {row.id for row in rows}
    if missing:
        raise NotFoundError(f"collection(s) not found: {', '.join(sorted(missing))}", code="collection_not_found")
    by_model: dict[str, list[str]] = {}
    for row in rows:
        by_model.setdefault(row.embedding_model, []).append(row.id)
    return by_model


# Filtered nearest neighbours. The HNSW index is shared by every tenant and collection, and pgvector 0.6
# (the one pgserver ships) applies WHERE filters after the index scan has returned its `ef_search` nearest:
# a tenant holding 1 % of the table would get almost nothing back. So a scope of up to
# EXACT_SEARCH_MAX_CHUNKS chunks (most tenants, most collections) is searched exactly — every distance in the
# scope, computed from the (tenant, collection) index, no approximation; a larger scope is a large share of
# the table anyway, where the index with a raised `ef_search` returns its real top k.
EXACT_SEARCH_MAX_CHUNKS = 50_000


async def nearest_chunks(
    engine: AsyncEngine,
    tenant_id: str,
    collection_ids: list[str],
    req: SearchRequest,
    vector: list[float],
    dims: int,
    limit: int,
) -> list[SearchHit]:
    """The `limit` chunks nearest to `vector` (cosine) in the scope: exact, or HNSW for very large scopes."""
    distance = f"c.embedding::vector({dims}) <=> CAST(:vector AS vector({dims}))"  # dims: a known integer
    scope = f"{_SCOPE} AND c.dimensions = {dims} AND c.embedding IS NOT NULL"
    params = _params(tenant_id, collection_ids, req) | {"vector": str(vector), "limit": limit}
    async with engine.connect() as conn:
        size = await conn.scalar(
            sa.text(
                "SELECT count(*) FROM chunks c WHERE c.tenant_id = :tenant_id"
                f" AND c.collection_id = ANY(:collection_ids) AND c.dimensions = {dims}"
            ),
            params,
        )
        if (size or 0) <= EXACT_SEARCH_MAX_CHUNKS:
            sql = sa.text(  # MATERIALIZED: every distance of the scope, so the planner cannot pick the index
                f"WITH scoped AS MATERIALIZED (SELECT {_HIT_COLUMNS}, {distance} AS distance {scope}) "
                "SELECT *, 1 - distance AS score FROM scoped ORDER BY distance, chunk_id LIMIT :limit"
            )
        else:
            ef_search = min(1_000, max(100, 4 * limit))
            await conn.execute(sa.text(f"SET LOCAL hnsw.ef_search = {ef_search}"))
            sql = sa.text(f"SELECT {_HIT_COLUMNS}, 1 - ({distance}) AS score {scope} ORDER BY {distance} LIMIT :limit")
        rows = (await conn.execute(sql, params)).all()
    return [
        SearchHit(**{k: v for k, v in row._asdict().items() if k != "distance"}, vector_score=row.score) for row in rows
    ]


async def vector_search(
    engine: AsyncEngine,
    embedding: BaseRedisClient,
    parent: DomainAction,
    req: SearchRequest,
    limit: int,
    by_model: dict[str, list[str]],
) -> list[SearchHit]:
    hits: list[SearchHit] = []
    for model, collection_ids in by_model.items():
        action = embedding.follow_up(parent, "embedding.generate", {"texts": [req.query], "model": model})
        vector = (await embedding.call(action, timeout=30))["embeddings"][0]
        dims = EMBEDDING_DIMENSIONS[model]
        hits += await nearest_chunks(engine, parent.tenant_id, collection_ids, req, vector, dims, limit)
    return sorted(hits, key=lambda hit: hit.score, reverse=True)[:limit]


async def text_search(engine: AsyncEngine, tenant_id: str, req: SearchRequest, limit: int) -> list[SearchHit]:
    identifiers = identifier_parts(req.query)
    named = " || ".join(f"plainto_tsquery('simple', :identifier{i})" for i in range(len(identifiers))) or "NULL"
    # ranked by cover density over the English index; a chunk holding a named identifier whole comes first
    sql = sa.text(
        f"WITH q AS (SELECT {_TSQUERY} AS words, ({named})::tsquery AS named) "
        f"SELECT {_HIT_COLUMNS}, ts_rank_cd(c.tsv, q.words)"
        " + CASE WHEN q.named IS NOT NULL AND c.tsv_parts @@ q.named THEN 1 ELSE 0 END AS score"
        f" FROM q, {_SCOPE.strip().removeprefix('FROM ')}"
        " AND (c.tsv @@ q.words OR (q.named IS NOT NULL AND c.tsv_parts @@ q.named))"
        " ORDER BY score DESC, c.id LIMIT :limit"
    )
    params = _params(tenant_id, req.collection_ids, req) | {"query": req.query, "limit": limit}
    params |= {f"identifier{i}": parts for i, parts in enumerate(identifiers)}
    async with engine.connect() as conn:
        rows = (await conn.execute(sql, params)).all()
    return [SearchHit(**row._asdict(), text_score=row.score) for row in rows]


def reciprocal_rank_fusion(
    rankings: list[list[SearchHit]], k: int, top_k: int, weights: list[float] | None = None
) -> list[SearchHit]:
    """score(chunk) = Σ weight / (k + rank) over the rankings that contain it (rank from 1)."""
    fused: dict[int, SearchHit] = {}
    scores: dict[int, float] = {}
    for ranking, weight in zip(rankings, weights or [1.0] * len(rankings), strict=True):
        for rank, hit in enumerate(ranking, start=1):
            scores[hit.chunk_id] = scores.get(hit.chunk_id, 0.0) + weight / (k + rank)
            known = fused.get(hit.chunk_id)
            fused[hit.chunk_id] = (
                hit
                if known is None
                else known.model_copy(
                    update={
                        "vector_score": known.vector_score if known.vector_score is not None else hit.vector_score,
                        "text_score": known.text_score if known.text_score is not None else hit.text_score,
                    }
                )
            )
    ordered = sorted(scores, key=lambda chunk_id: scores[chunk_id], reverse=True)[:top_k]
    return [fused[chunk_id].model_copy(update={"score": scores[chunk_id]}) for chunk_id in ordered]


async def search(
    engine: AsyncEngine,
    embedding: BaseRedisClient,
    parent: DomainAction,
    req: SearchRequest,
    *,
    rrf_k: int,
    candidates: int,
    text_weight: float = 1.0,
) -> list[SearchHit]:
    by_model = await _models_of(engine, parent.tenant_id, req.collection_ids)
    if req.mode == SearchMode.VECTOR:
        return await vector_search(engine, embedding, parent, req, req.top_k, by_model)
    if req.mode == SearchMode.TEXT:
        return await text_search(engine, parent.tenant_id, req, req.top_k)
    pool = max(candidates, req.top_k)
    vector_hits = await vector_search(engine, embedding, parent, req, pool, by_model)
    text_hits = await text_search(engine, parent.tenant_id, req, pool)
    weight = req.text_weight if req.text_weight is not None else text_weight
    return reciprocal_rank_fusion([vector_hits, text_hits], rrf_k, req.top_k, [1.0, weight])


def _params(tenant_id: str, collection_ids: list[str], req: SearchRequest) -> dict[str, Any]:
    return {"tenant_id": tenant_id, "collection_ids": collection_ids, "document_ids": req.document_ids}
