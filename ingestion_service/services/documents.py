"""Documents: stored with their raw bytes and content hash (the same content twice in a collection is one
document), a task per ingestion; tier caps on file size and documents per day."""

from __future__ import annotations

import hashlib
import uuid
from datetime import timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncEngine

from common.auth import TenantIdentity
from common.errors import NotFoundError, QuotaExceededError
from common.knowledge_tables import chunks, documents, ingestion_tasks
from common.models.actions import utc_now
from common.models.pagination import Page
from common.tier_limits import limits_for
from ingestion_service.models.knowledge import ChunkOut, DocumentAccepted, DocumentOut, TaskOut
from ingestion_service.services.collections import get_collection

DOCUMENT_COLUMNS = [c for c in documents.c if c.name not in {"tenant_id", "raw", "metadata"}]


def _one(tenant_id: str, document_id: str) -> Any:
    return sa.and_(documents.c.tenant_id == tenant_id, documents.c.id == document_id)


def max_upload_bytes(tenant: TenantIdentity) -> int:
    return limits_for(tenant.tier).max_file_size_mb * 1024 * 1024


async def add_document(
    engine: AsyncEngine, tenant: TenantIdentity, collection_id: str, *, title: str, source: str, kind: str, raw: bytes
) -> DocumentAccepted:
    await get_collection(engine, tenant.tenant_id, collection_id)  # NotFoundError for another tenant's
    limits = limits_for(tenant.tier)
    if len(raw) > max_upload_bytes(tenant):
        raise QuotaExceededError(
            f"files are limited to {limits.max_file_size_mb} MB on the {tenant.tier.value} tier", code="file_too_large"
        )
    content_hash = hashlib.sha256(raw).hexdigest()
    async with engine.begin() as conn:
        if limits.max_documents_per_day is not None:
            # one upload of a tenant at a time past this point, so concurrent uploads cannot both pass the cap
            await conn.execute(
                sa.text("SELECT pg_advisory_xact_lock(hashtext('documents:' || :t))"), {"t": tenant.tenant_id}
            )
            if await _documents_last_day(conn, tenant.tenant_id) >= limits.max_documents_per_day:
                raise QuotaExceededError(
                    f"the {tenant.tier.value} tier allows {limits.max_documents_per_day} documents per day",
                    code="document_limit",
                )
        document_id = str(uuid.uuid4())
        inserted = (
            await conn.execute(
                insert(documents)
                .values(
                    tenant_id=tenant.tenant_id,
                    id=document_id,
                    collection_id=collection_id,
                    title=title[:500],
                    source=source[:2_000],
                    content_type=kind,
                    content_hash=content_hash,
                    size_bytes=len(raw),
                    raw=raw,
                    status="queued",
                )
                .on_conflict_do_nothing(constraint="uq_documents_content")
                .returning(*DOCUMENT_COLUMNS)
            )
        ).one_or_none()
        if inserted is None:  # the same bytes are already in this collection
            same = sa.and_(
                documents.c.tenant_id == tenant.tenant_id,
                documents.c.collection_id == collection_id,
                documents.c.content_hash == content_hash,
            )
            # one that never ingested (still queued, or failed) is queued again: an upload is also a retry
            retried = (
                await conn.execute(
                    documents.update()
                    .where(same, documents.c.status.in_(("queued", "failed")))
                    .values(status="queued", error=None, updated_at=sa.func.now())
                    .returning(*DOCUMENT_COLUMNS)
                )
            ).one_or_none()
            if retried is None:
                existing = (await conn.execute(sa.select(*DOCUMENT_COLUMNS).where(same))).one()
                return DocumentAccepted(document=DocumentOut(**existing._asdict()), task_id=None, duplicate=True)
            task_id = await _new_task(conn, tenant, retried.id)
            return DocumentAccepted(document=DocumentOut(**retried._asdict()), task_id=task_id, duplicate=True)
        task_id = await _new_task(conn, tenant, document_id)
    return DocumentAccepted(document=DocumentOut(**inserted._asdict()), task_id=task_id)


async def _new_task(conn: Any, tenant: TenantIdentity, document_id: str) -> str:
    task_id = str(uuid.uuid4())
    await conn.execute(
        ingestion_tasks.insert().values(
            tenant_id=tenant.tenant_id,
            id=task_id,
            document_id=document_id,
            status="queued",
            stage="queued",
            tier=tenant.tier.value,
        )
    )
    return task_id


async def _documents_last_day(conn: Any, tenant_id: str) -> int:
    count = await conn.scalar(
        sa.select(sa.func.count())
        .select_from(documents)
        .where(documents.c.tenant_id == tenant_id, documents.c.created_at > utc_now() - timedelta(days=1))
    )
    return int(count or 0)


async def usage(engine: AsyncEngine, tenant: TenantIdentity) -> dict[str, int | None]:
    limits = limits_for(tenant.tier)
    async with engine.connect() as conn:
        today = await _documents_last_day(conn, tenant.tenant_id)
    return {
        "documents_last_24h": today,
        "max_documents_per_day": limits.max_documents_per_day,
        "max_file_size_mb": limits.max_file_size_mb,
    }


async def get_document(engine: AsyncEngine, tenant_id: str, document_id: str) -> DocumentOut:
    async with engine.connect() as conn:
        row = (await conn.execute(sa.select(*DOCUMENT_COLUMNS).where(_one(tenant_id, document_id)))).one_or_none()
    if row is None:
        raise NotFoundError(f"document {document_id} not found", code="document_not_found")
    return DocumentOut(**row._asdict())


async def list_documents(
    engine: AsyncEngine, tenant_id: str, collection_id: str | None, status: str | None, limit: int, offset: int
) -> Page[DocumentOut]:
    """Newest first, optionally of one collection and/or one status, one page at a time."""
    scope = [documents.c.tenant_id == tenant_id]
    if collection_id:
        scope.append(documents.c.collection_id == collection_id)
    if status:
        scope.append(documents.c.status == status)
    query = sa.select(*DOCUMENT_COLUMNS).where(*scope)
    async with engine.connect() as conn:
        total = await conn.scalar(sa.select(sa.func.count()).select_from(documents).where(*scope))
        rows = (
            await conn.execute(
                query.order_by(documents.c.created_at.desc(), documents.c.id).limit(limit).offset(offset)
            )
        ).all()
    return Page[DocumentOut](
        items=[DocumentOut(**row._asdict()) for row in rows], total=total or 0, limit=limit, offset=offset
    )


async def list_chunks(engine: AsyncEngine, tenant_id: str, document_id: str, limit: int, offset: int) -> Page[ChunkOut]:
    """The document's chunks in reading order (404 for another tenant's or a missing document)."""
    await get_document(engine, tenant_id, document_id)
    scope = (chunks.c.tenant_id == tenant_id, chunks.c.document_id == document_id)
    async with engine.connect() as conn:
        total = await conn.scalar(sa.select(sa.func.count()).select_from(chunks).where(*scope))
        rows = await conn.execute(
            sa.select(
                chunks.c.position,
                chunks.c.content,
                chunks.c.page,
                chunks.c.heading,
                chunks.c.token_count,
                chunks.c.embedding.is_not(None).label("embedded"),
            )
            .where(*scope)
            .order_by(chunks.c.position)
            .limit(limit)
            .offset(offset)
        )
        items = [ChunkOut(**row._asdict()) for row in rows]
    return Page[ChunkOut](items=items, total=total or 0, limit=limit, offset=offset)


async def delete_document(engine: AsyncEngine, tenant_id: str, document_id: str) -> None:
    """The document and its chunks, in one transaction."""
    async with engine.begin() as conn:
        result = await conn.execute(documents.delete().where(_one(tenant_id, document_id)))
        if result.rowcount == 0:
            raise NotFoundError(f"document {document_id} not found", code="document_not_found")
        await conn.execute(chunks.delete().where(chunks.c.tenant_id == tenant_id, chunks.c.document_id == document_id))


async def get_task(engine: AsyncEngine, tenant_id: str, task_id: str) -> TaskOut:
    async with engine.connect() as conn:
        row = (
            await conn.execute(
                sa.select(*[c for c in ingestion_tasks.c if c.name != "tenant_id"]).where(
                    ingestion_tasks.c.tenant_id == tenant_id, ingestion_tasks.c.id == task_id
                )
            )
        ).one_or_none()
    if row is None:
        raise NotFoundError(f"task {task_id} not found", code="task_not_found")
    return TaskOut(**row._asdict())
