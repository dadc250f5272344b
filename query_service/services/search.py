"""Retrieval over the knowledge base: pgvector cosine (here), BM25 over PostgreSQL postings (`lexical`), and the
fusion of the two (hybrid).

Every query is scoped by tenant and collection ids (and optional document ids), and only sees chunks of
documents that finished ingesting (`status = 'ready'`).
"""

from __future__ import annotations

import asyncio
from typing import NamedTuple

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncEngine

from common.clients.base_redis_client import BaseRedisClient
from common.contracts.embedding import GENERATE as GENERATE_EMBEDDINGS
from common.contracts.embedding import EmbedRequest
from common.contracts.query import FusionMethod, SearchMode, SearchRequest
from common.embedding_models import EMBEDDING_DIMENSIONS
from common.errors import NotFoundError
from common.knowledge_tables import collections
from common.models.actions import DomainAction
from common.models.knowledge import SearchHit
from query_service.services.context import with_sections
from query_service.services.evidence import with_evidence
from query_service.services.lexical import text_search
from query_service.services.scope import DOCUMENT_OF_CHUNK, HIT_COLUMNS, READY_DOCUMENTS
from query_service.settings import QuerySettings


class Scope(NamedTuple):
    by_model: dict[str, list[str]]  # embedding model → the requested collections using it
    by_config: dict[str, list[str]]  # text search configuration → the requested collections using it


async def _scope_of(engine: AsyncEngine, tenant_id: str, collection_ids: list[str]) -> Scope:
    """The requested collections grouped for each mode; NotFoundError if one is not the tenant's."""
    async with engine.connect() as conn:
        rows = (
            await conn.execute(
                sa.select(collections.c.id, collections.c.embedding_model, collections.c.text_search_config).where(
                    collections.c.tenant_id == tenant_id, collections.c.id.in_(collection_ids)
                )
            )
        ).all()
    missing = set(collection_ids) - {row.id for row in rows}
    if missing:
        raise NotFoundError(f"collection(s) not found: {', '.join(sorted(missing))}", code="collection_not_found")
    scope = Scope({}, {})
    for row in rows:
        scope.by_model.setdefault(row.embedding_model, []).append(row.id)
        scope.by_config.setdefault(row.text_search_config, []).append(row.id)
    return scope


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
    scope = (
        f"FROM chunks c {READY_DOCUMENTS} WHERE c.tenant_id = :tenant_id AND c.collection_id = ANY(:collection_ids)"
        f" AND c.dimensions = {dims} AND c.embedding IS NOT NULL"
    )
    params = {
        "tenant_id": tenant_id,
        "collection_ids": collection_ids,
        "document_ids": req.document_ids,
        "vector": str(vector),
        "limit": limit,
    }
    async with engine.connect() as conn:
        size = await conn.scalar(
            sa.text(
                "SELECT count(*) FROM chunks c WHERE c.tenant_id = :tenant_id"
                f" AND c.collection_id = ANY(:collection_ids) AND c.dimensions = {dims}"
            ),
            params,
        )
        if (size or 0) <= EXACT_SEARCH_MAX_CHUNKS:
            sql = sa.text(  # MATERIALIZED: every distance of the scope, so the planner cannot pick the index;
                # only ids and distances are sorted, the nearest rows' columns are read afterwards
                "WITH scoped AS MATERIALIZED "
                f"(SELECT c.id, c.embedding <=> CAST(:vector AS vector) AS distance {scope}), "
                "nearest AS (SELECT id, distance FROM scoped ORDER BY distance, id LIMIT :limit) "
                f"SELECT {HIT_COLUMNS}, 1 - n.distance AS score FROM nearest n JOIN chunks c ON c.id = n.id "
                f"{DOCUMENT_OF_CHUNK} ORDER BY n.distance, c.id"
            )
        else:
            ef_search = min(1_000, max(100, 4 * limit))
            await conn.execute(sa.text(f"SET LOCAL hnsw.ef_search = {ef_search}"))
            sql = sa.text(f"SELECT {HIT_COLUMNS}, 1 - ({distance}) AS score {scope} ORDER BY {distance} LIMIT :limit")
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
        request = EmbedRequest(texts=[req.query], model=model)
        vector = (await embedding.call(GENERATE_EMBEDDINGS, request, parent=parent)).embeddings[0]
        dims = EMBEDDING_DIMENSIONS[model]
        hits += await nearest_chunks(engine, parent.tenant_id, collection_ids, req, vector, dims, limit)
    return sorted(hits, key=lambda hit: hit.score, reverse=True)[:limit]


def reciprocal_rank_fusion(rankings: list[list[SearchHit]], weights: list[float], k: int) -> dict[int, float]:
    """score(chunk) = Σ weight / (k + rank) over the rankings that contain it (rank from 1)."""
    scores: dict[int, float] = {}
    for ranking, weight in zip(rankings, weights, strict=True):
        for rank, hit in enumerate(ranking, start=1):
            scores[hit.chunk_id] = scores.get(hit.chunk_id, 0.0) + weight / (k + rank)
    return scores


def score_fusion(rankings: list[list[SearchHit]], weights: list[float]) -> dict[int, float]:
    """score(chunk) = Σ weight · (score - min) / (max - min) over the rankings, each scaled to [0, 1] over its own
    candidates (a chunk missing from a ranking gets 0 there): how far ahead a hit is counts, not only its rank."""
    scores: dict[int, float] = {}
    for ranking, weight in zip(rankings, weights, strict=True):
        if not ranking:
            continue
        top, bottom = ranking[0].score, ranking[-1].score
        for hit in ranking:  # all equal (e.g. a single hit): each is that ranking's best
            scaled = (hit.score - bottom) / (top - bottom) if top > bottom else 1.0
            scores[hit.chunk_id] = scores.get(hit.chunk_id, 0.0) + weight * scaled
    return scores


def fuse(
    vector_hits: list[SearchHit], text_hits: list[SearchHit], fused: dict[int, float], top_k: int
) -> list[SearchHit]:
    """The `top_k` best chunks by their fused score, carrying each mode's own score."""
    vector_scores = {hit.chunk_id: hit.score for hit in vector_hits}
    text_scores = {hit.chunk_id: hit.score for hit in text_hits}
    text_shares = {hit.chunk_id: hit.text_share for hit in text_hits}
    hits = {hit.chunk_id: hit for hit in [*text_hits, *vector_hits]}
    ordered = sorted(fused, key=lambda chunk_id: (-fused[chunk_id], chunk_id))[:top_k]
    return [
        hits[chunk_id].model_copy(
            update={
                "score": fused[chunk_id],
                "vector_score": vector_scores.get(chunk_id),
                "text_score": text_scores.get(chunk_id),
                "text_share": text_shares.get(chunk_id),
            }
        )
        for chunk_id in ordered
    ]


def text_weight(req: SearchRequest, text_hits: list[SearchHit], settings: QuerySettings) -> float:
    """The request's own weight, else the text ranking's confidence: `hybrid_text_weight` times how much of the
    query's words its best hit holds (`text_share`, 0..1). A ranking that matched a rare name fully weighs most; one
    that matched a few common words of a paraphrased question weighs little, so it cannot pull the dense ranking
    below itself (docs/benchmarks.md, "Retrieval": above each single mode on all four sets)."""
    if req.text_weight is not None:
        return req.text_weight
    return settings.hybrid_text_weight * max((hit.text_share or 0.0 for hit in text_hits), default=0.0)


async def search(
    engine: AsyncEngine, embedding: BaseRedisClient, parent: DomainAction, req: SearchRequest, settings: QuerySettings
) -> list[SearchHit]:
    """`req.mode` over the requested collections, then each hit's section (`with_context`); with evidence, the best
    of `evidence_pool_factor` times as many hits by how well their sentences answer the query (`relevance`)."""
    scope = await _scope_of(engine, parent.tenant_id, req.collection_ids)
    if not req.with_evidence:
        hits = await _ranked(engine, embedding, parent, req, settings, scope)
        return (
            await with_sections(engine, parent.tenant_id, hits, settings.context_max_tokens)
            if req.with_context
            else hits
        )
    # evidence re-ranks: a wider pool is read, and the hits whose sentences answer best come first
    pool = req.model_copy(update={"top_k": req.top_k * settings.evidence_pool_factor})
    hits = await with_sections(
        engine,
        parent.tenant_id,
        await _ranked(engine, embedding, parent, pool, settings, scope),
        settings.context_max_tokens,
    )
    model_of = {collection_id: model for model, ids in scope.by_model.items() for collection_id in ids}
    hits = await with_evidence(embedding, parent, req.query, hits, model_of)
    return sorted(hits, key=lambda hit: -(hit.relevance or 0.0))[: req.top_k]


async def _ranked(
    engine: AsyncEngine,
    embedding: BaseRedisClient,
    parent: DomainAction,
    req: SearchRequest,
    settings: QuerySettings,
    scope: Scope,
) -> list[SearchHit]:
    """The `req.top_k` best chunks of `req.mode`; hybrid fuses `hybrid_candidates` of each mode."""
    if req.mode == SearchMode.VECTOR:
        return await vector_search(engine, embedding, parent, req, req.top_k, scope.by_model)
    if req.mode == SearchMode.TEXT:
        return await text_search(engine, parent.tenant_id, req, req.top_k, scope.by_config)
    pool = max(settings.hybrid_candidates, req.top_k)
    vector_hits, text_hits = await asyncio.gather(
        vector_search(engine, embedding, parent, req, pool, scope.by_model),
        text_search(engine, parent.tenant_id, req, pool, scope.by_config),
    )
    weight = text_weight(req, text_hits, settings)
    method = req.fusion or settings.hybrid_fusion
    if method == FusionMethod.RRF:
        fused = reciprocal_rank_fusion([vector_hits, text_hits], [1.0, weight], settings.rrf_k)
    else:
        fused = score_fusion([vector_hits, text_hits], [1.0, weight])
    return fuse(vector_hits, text_hits, fused, req.top_k)
