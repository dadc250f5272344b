"""`ingestion.document.ingest`: extract → chunk → `embedding.generate` in batches (pseudo-sync calls at `bulk`
priority, a few at once) → vectors stored → document ready.

Chunks are written first without vectors, so a worker killed mid-document resumes: the redelivered action
finds the chunks and only embeds those still without a vector. Search only sees chunks of `ready`
documents. A document that cannot be read ends `failed` with the reason, and its chunks are removed.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncEngine

from common import metrics
from common.contracts.embedding import GENERATE as GENERATE_EMBEDDINGS
from common.contracts.embedding import EmbedRequest
from common.contracts.ingestion import IngestRequest
from common.contracts.management import WebhookEventType
from common.errors import ActionTimeoutError, DependencyError, NoobleError, NotFoundError, ValidationError
from common.knowledge_tables import chunks, collections, documents
from common.lexical import lexical_text
from common.log import get_logger
from common.models.actions import DomainAction
from ingestion_service.deps import IngestionDeps
from ingestion_service.services.progress import report
from ingestion_service.services.sandbox import extract_chunks

log = get_logger(__name__)


async def ingest(action: DomainAction, req: IngestRequest, deps: IngestionDeps) -> dict[str, Any]:
    tenant_id = action.tenant_id
    engine = deps.engine

    reporting = asyncio.Lock()  # one report at a time: its row and its event go out in the order of the calls

    async def progress(**fields: Any) -> None:
        async with reporting:
            await report(
                engine, deps.redis, deps.queues, tenant_id, req.task_id, deps.settings.task_events_ttl_s, **fields
            )

    document, collection = await _load(engine, tenant_id, req.document_id)
    if document.status == "ready":
        await progress(status="done", stage="done", percent=100)
        return {"document_id": req.document_id, "status": "ready", "chunks": document.chunk_count}
    await _set_status(engine, tenant_id, req.document_id, "processing")
    await deps.redis.srem(queued_marker(deps), f"{tenant_id}:{req.document_id}")  # type: ignore[misc]  # picked up
    try:
        total = await _count_chunks(engine, tenant_id, req.document_id)
        if total == 0:
            await progress(status="processing", stage="extracting", percent=5)
            async with deps.extract_gate:  # in a capped child process: a hostile file cannot stall the service
                pieces = await extract_chunks(
                    document.raw,
                    document.content_type,
                    collection.chunk_size,
                    collection.chunk_overlap,
                    deps.settings.sandbox_limits,
                )
            total = await store_chunks(engine, tenant_id, document, collection, pieces)
        await progress(status="processing", stage="embedding", percent=20, chunks_total=total)
        await _embed_pending(action, deps, req.document_id, collection.embedding_model, total, progress)
    except ValidationError as exc:  # unreadable, empty, unsupported, refused by the model: no retry helps
        return await _give_up(deps, tenant_id, req, f"{exc.code}: {exc.message}", retryable=False)
    except DependencyError as exc:  # e.g. no embedding answer: retried, and on the last delivery failed
        if action.metadata.get("delivery_count", 1) >= deps.settings.max_deliveries:
            reason = f"{exc.code}: {exc.message} (gave up)"
            return await _give_up(deps, tenant_id, req, reason)
        raise
    async with engine.begin() as conn:
        await conn.execute(
            documents.update()
            .where(documents.c.tenant_id == tenant_id, documents.c.id == req.document_id)
            .values(status="ready", error=None, error_retryable=False, chunk_count=total, updated_at=sa.func.now())
        )
    await progress(status="done", stage="done", percent=100, chunks_embedded=total)
    log.info("document_ingested", document_id=req.document_id, chunks=total)
    metrics.INGESTED_CHUNKS.labels(action.tenant_tier.value).inc(total)
    metrics.DOCUMENTS.labels("ready").inc()
    data = {"document_id": req.document_id, "task_id": req.task_id, "collection_id": collection.id, "chunks": total}
    await deps.webhooks.emit(WebhookEventType.DOCUMENT_READY, f"document.ready:{req.task_id}", data, parent=action)
    return {"document_id": req.document_id, "status": "ready", "chunks": total}


def queued_marker(deps: IngestionDeps) -> str:
    """The set of documents whose ingestion waits in a stream (`tenant:document`), for the sweeper."""
    return deps.queues.state_key("ingestion", "queued")


async def _load(engine: AsyncEngine, tenant_id: str, document_id: str) -> tuple[Any, Any]:
    async with engine.connect() as conn:
        document = (
            await conn.execute(
                sa.select(documents).where(documents.c.tenant_id == tenant_id, documents.c.id == document_id)
            )
        ).one_or_none()
        if document is None:
            raise NotFoundError(f"document {document_id} not found (deleted?)", code="document_not_found")
        collection = (
            await conn.execute(
                sa.select(collections).where(
                    collections.c.tenant_id == tenant_id, collections.c.id == document.collection_id
                )
            )
        ).one()
    return document, collection


async def _set_status(engine: AsyncEngine, tenant_id: str, document_id: str, status: str) -> None:
    async with engine.begin() as conn:
        await conn.execute(
            documents.update()
            .where(documents.c.tenant_id == tenant_id, documents.c.id == document_id)
            .values(status=status, updated_at=sa.func.now())
        )


async def _count_chunks(engine: AsyncEngine, tenant_id: str, document_id: str) -> int:
    async with engine.connect() as conn:
        return int(
            await conn.scalar(
                sa.select(sa.func.count())
                .select_from(chunks)
                .where(chunks.c.tenant_id == tenant_id, chunks.c.document_id == document_id)
            )
            or 0
        )


# Postings of the chunks just stored (migration 0008): every term with its frequency and the chunk's length,
# from the prose (collection's configuration) and the whole identifiers (`simple`) of common.lexical.
_STORE_POSTINGS = sa.text(
    """
    WITH pieces AS (
        SELECT * FROM unnest(CAST(:positions AS int[]), CAST(:prose AS text[]), CAST(:identifiers AS text[]))
            AS p(position, prose, identifiers)
    ), terms AS (
        SELECT c.id, t.lexeme, coalesce(array_length(t.positions, 1), 1) AS tf
        FROM pieces p
        JOIN chunks c ON c.tenant_id = :tenant_id AND c.document_id = :document_id AND c.position = p.position
        CROSS JOIN LATERAL unnest(
            to_tsvector(CAST(:config AS regconfig), p.prose) || to_tsvector('simple', p.identifiers)
        ) t
    ), lengths AS (
        UPDATE chunks SET term_count = l.length
        FROM (SELECT id, sum(tf) AS length FROM terms GROUP BY id) l WHERE chunks.id = l.id
        RETURNING chunks.id, chunks.term_count
    )
    INSERT INTO chunk_terms (tenant_id, collection_id, term, document_id, chunk_id, tf, chunk_length)
    SELECT :tenant_id, :collection_id, t.lexeme, :document_id, t.id, t.tf, l.term_count
    FROM terms t JOIN lengths l ON l.id = t.id
    ON CONFLICT DO NOTHING
    """
)


async def store_chunks(engine: AsyncEngine, tenant_id: str, document: Any, collection: Any, pieces: list) -> int:
    """A document's chunks (without vectors yet) and their lexical postings, in one transaction."""
    rows = [
        {
            "tenant_id": tenant_id,
            "collection_id": document.collection_id,
            "document_id": document.id,
            "position": piece.position,
            "content": piece.content,
            "page": piece.page,
            "heading": piece.heading,
            "token_count": piece.token_count,
            "dimensions": collection.dimensions,
        }
        for piece in pieces
    ]
    # about a second of regular expressions for a few MB of text: off the event loop (leases, heartbeats)
    lexical = await asyncio.to_thread(lambda: [lexical_text(document.title, p.heading, p.content) for p in pieces])
    async with engine.begin() as conn:  # all chunks or none; a concurrent run of the same document adds nothing
        await conn.execute(insert(chunks).on_conflict_do_nothing(constraint="uq_chunks_position"), rows)
        await conn.execute(
            _STORE_POSTINGS,
            {
                "tenant_id": tenant_id,
                "collection_id": document.collection_id,
                "document_id": document.id,
                "config": collection.text_search_config,
                "positions": [piece.position for piece in pieces],
                "prose": [text.prose for text in lexical],
                "identifiers": [text.identifiers for text in lexical],
            },
        )
    return len(rows)


async def _embed_pending(
    action: DomainAction, deps: IngestionDeps, document_id: str, model: str, total: int, progress: Any
) -> None:
    async with deps.engine.connect() as conn:
        pending = (
            await conn.execute(
                sa.select(chunks.c.id, chunks.c.content, chunks.c.heading)
                .where(
                    chunks.c.tenant_id == action.tenant_id,
                    chunks.c.document_id == document_id,
                    chunks.c.embedding.is_(None),
                )
                .order_by(chunks.c.position)
            )
        ).all()
    size = deps.settings.embed_batch_size
    batches = [pending[i : i + size] for i in range(0, len(pending), size)]
    done = total - len(pending)
    gate = asyncio.Semaphore(deps.settings.embed_parallel_batches)

    async def one(batch: Sequence[Any]) -> None:
        nonlocal done
        async with gate, deps.embed_gate:  # the timeout counts the embedding's work, not a queue behind others
            vectors = await _embed_batch(action, deps, model, [embedded_text(row) for row in batch])
            async with deps.engine.begin() as conn:
                await conn.execute(
                    chunks.update()
                    .where(chunks.c.id == sa.bindparam("chunk_id"))
                    .values(embedding=sa.bindparam("vector")),
                    [{"chunk_id": row.id, "vector": vector} for row, vector in zip(batch, vectors, strict=True)],
                )
            done += len(batch)
            if done < total:  # the last batch's news is the document's `done`, written next
                await progress(chunks_embedded=done, percent=20 + int(75 * done / max(total, 1)))

    await asyncio.gather(*(one(batch) for batch in batches))


def embedded_text(chunk: Any) -> str:
    """What a chunk's vector is computed from: its content, after its section heading when the chunk does not
    begin with it (a long section's later chunks), so every chunk carries what it is about."""
    heading = (chunk.heading or "").strip()
    if heading and not chunk.content.lstrip().startswith(heading):
        return f"{heading}\n{chunk.content}"
    return str(chunk.content)


async def _embed_batch(action: DomainAction, deps: IngestionDeps, model: str, texts: list[str]) -> list[list[float]]:
    request = EmbedRequest(texts=texts, model=model, priority="bulk")
    timeout_s = deps.settings.embed_timeout_s
    try:
        done = await deps.embedding.call(GENERATE_EMBEDDINGS, request, parent=action, timeout=timeout_s)
    except ActionTimeoutError:
        raise DependencyError(
            f"the embedding service did not answer within {timeout_s:g} s", code="embedding_timeout"
        ) from None
    except NoobleError as error:
        if error.error_type.value == "validation_error":
            raise ValidationError(f"the embedding service refused the text: {error.message}", code=error.code) from None
        raise DependencyError(f"embedding failed: {error.message}", code="embedding_failed") from error
    if len(done.embeddings) != len(texts):
        raise DependencyError(
            "the embedding service answered with the wrong number of vectors", code="embedding_failed"
        )
    return done.embeddings


async def _give_up(
    deps: IngestionDeps, tenant_id: str, req: IngestRequest, reason: str, *, retryable: bool = True
) -> dict[str, Any]:
    await fail_document(deps, tenant_id, req.document_id, req.task_id, reason, retryable=retryable)
    return {"document_id": req.document_id, "status": "failed", "error": reason}


async def fail_document(
    deps: IngestionDeps, tenant_id: str, document_id: str, task_id: str, reason: str, *, retryable: bool = True
) -> None:
    """End a document `failed` with `reason` (its chunks removed) and its task too; for the failure handler
    and the sweeper, when the pipeline itself could not say so. `retryable`: another try may succeed."""
    await _fail(deps.engine, tenant_id, document_id, reason, retryable)
    metrics.DOCUMENTS.labels("failed").inc()
    data = {"document_id": document_id, "task_id": task_id, "error": reason[:2_000], "retryable": retryable}
    await deps.webhooks.emit(WebhookEventType.DOCUMENT_FAILED, f"document.failed:{task_id}", data, tenant_id=tenant_id)
    await report(
        deps.engine,
        deps.redis,
        deps.queues,
        tenant_id,
        task_id,
        deps.settings.task_events_ttl_s,
        status="failed",
        stage="failed",
        error=reason[:2_000],
    )


async def _fail(engine: AsyncEngine, tenant_id: str, document_id: str, reason: str, retryable: bool) -> None:
    async with engine.begin() as conn:
        await conn.execute(chunks.delete().where(chunks.c.tenant_id == tenant_id, chunks.c.document_id == document_id))
        await conn.execute(
            documents.update()
            .where(documents.c.tenant_id == tenant_id, documents.c.id == document_id)
            .values(
                status="failed",
                error=reason[:2_000],
                error_retryable=retryable,
                chunk_count=0,
                updated_at=sa.func.now(),
            )
        )
