"""Collections: every statement scoped by tenant; tier caps on how many a tenant may have."""

from __future__ import annotations

import uuid
from typing import Any

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncEngine

from common.auth import TenantIdentity
from common.embedding_models import EMBEDDING_DIMENSIONS
from common.errors import ConflictError, NotFoundError, QuotaExceededError, ValidationError
from common.knowledge_tables import chunks, collections, documents
from common.tier_limits import limits_for
from ingestion_service.models.knowledge import CollectionCreate, CollectionOut, CollectionUpdate
from ingestion_service.settings import IngestionSettings


def _one(tenant_id: str, collection_id: str) -> Any:
    return sa.and_(collections.c.tenant_id == tenant_id, collections.c.id == collection_id)


def _out(row: Any, document_count: int = 0) -> CollectionOut:
    return CollectionOut(**{k: v for k, v in row._asdict().items() if k != "tenant_id"}, document_count=document_count)


async def create_collection(
    engine: AsyncEngine, tenant: TenantIdentity, body: CollectionCreate, settings: IngestionSettings
) -> CollectionOut:
    if body.embedding_model not in EMBEDDING_DIMENSIONS:
        raise ValidationError(
            f"unknown embedding model {body.embedding_model!r}; use one of {', '.join(EMBEDDING_DIMENSIONS)}",
            code="unknown_model",
        )
    size = body.chunk_size or settings.default_chunk_size
    overlap = body.chunk_overlap if body.chunk_overlap is not None else min(settings.default_chunk_overlap, size // 4)
    if overlap >= size:
        raise ValidationError("chunk_overlap must be smaller than chunk_size", code="invalid_chunking")
    cap = limits_for(tenant.tier).max_collections
    async with engine.begin() as conn:
        if not await conn.scalar(
            sa.text("SELECT EXISTS (SELECT 1 FROM pg_ts_config WHERE cfgname = :name)"),
            {"name": body.text_search_config},
        ):
            configs = (await conn.scalars(sa.text("SELECT cfgname FROM pg_ts_config ORDER BY cfgname"))).all()
            raise ValidationError(
                f"unknown text_search_config {body.text_search_config!r}; use one of {', '.join(configs)}",
                code="unknown_text_search_config",
            )
        if cap is not None:
            count = await conn.scalar(  # COUNT(*) is never NULL
                sa.select(sa.func.count()).select_from(collections).where(collections.c.tenant_id == tenant.tenant_id)
            )
            if (count or 0) >= cap:
                raise QuotaExceededError(
                    f"the {tenant.tier.value} tier allows {cap} collection(s)", code="collection_limit"
                )
        try:
            row = (
                await conn.execute(
                    collections.insert()
                    .values(
                        tenant_id=tenant.tenant_id,
                        id=str(uuid.uuid4()),
                        name=body.name,
                        description=body.description,
                        embedding_model=body.embedding_model,
                        dimensions=EMBEDDING_DIMENSIONS[body.embedding_model],
                        chunk_size=size,
                        chunk_overlap=overlap,
                        text_search_config=body.text_search_config,
                    )
                    .returning(*collections.c)
                )
            ).one()
        except IntegrityError:
            raise ConflictError(f"a collection named {body.name!r} exists", code="collection_exists") from None
    return _out(row)


async def get_collection(engine: AsyncEngine, tenant_id: str, collection_id: str) -> CollectionOut:
    async with engine.connect() as conn:
        row = (await conn.execute(sa.select(*collections.c).where(_one(tenant_id, collection_id)))).one_or_none()
        if row is None:
            raise NotFoundError(f"collection {collection_id} not found", code="collection_not_found")
        count = await conn.scalar(
            sa.select(sa.func.count())
            .select_from(documents)
            .where(documents.c.tenant_id == tenant_id, documents.c.collection_id == collection_id)
        )
    return _out(row, count or 0)


async def list_collections(engine: AsyncEngine, tenant_id: str) -> list[CollectionOut]:
    counts = (
        sa.select(documents.c.collection_id, sa.func.count().label("n"))
        .where(documents.c.tenant_id == tenant_id)
        .group_by(documents.c.collection_id)
        .subquery()
    )
    async with engine.connect() as conn:
        rows = (
            await conn.execute(
                sa.select(*collections.c, sa.func.coalesce(counts.c.n, 0).label("document_count"))
                .outerjoin(counts, counts.c.collection_id == collections.c.id)
                .where(collections.c.tenant_id == tenant_id)
                .order_by(collections.c.created_at)
            )
        ).all()
    return [
        CollectionOut(
            **{k: v for k, v in row._asdict().items() if k not in {"tenant_id", "document_count"}},
            document_count=row.document_count,
        )
        for row in rows
    ]


async def update_collection(
    engine: AsyncEngine, tenant_id: str, collection_id: str, body: CollectionUpdate
) -> CollectionOut:
    changes = body.model_dump(exclude_none=True)
    if changes:
        async with engine.begin() as conn:
            try:
                result = await conn.execute(
                    collections.update()
                    .where(_one(tenant_id, collection_id))
                    .values(**changes, updated_at=sa.func.now())
                )
            except IntegrityError:
                raise ConflictError(f"a collection named {body.name!r} exists", code="collection_exists") from None
            if result.rowcount == 0:
                raise NotFoundError(f"collection {collection_id} not found", code="collection_not_found")
    return await get_collection(engine, tenant_id, collection_id)


async def delete_collection(engine: AsyncEngine, tenant_id: str, collection_id: str) -> None:
    """The collection, its documents and their chunks, in one transaction."""
    async with engine.begin() as conn:
        result = await conn.execute(collections.delete().where(_one(tenant_id, collection_id)))
        if result.rowcount == 0:
            raise NotFoundError(f"collection {collection_id} not found", code="collection_not_found")
        await conn.execute(
            chunks.delete().where(chunks.c.tenant_id == tenant_id, chunks.c.collection_id == collection_id)
        )
        await conn.execute(
            documents.delete().where(documents.c.tenant_id == tenant_id, documents.c.collection_id == collection_id)
        )


async def missing_collections(engine: AsyncEngine, tenant_id: str, collection_ids: list[str]) -> list[str]:
    """The ids among `collection_ids` that are not collections of this tenant, in the order given."""
    async with engine.connect() as conn:
        found = set(
            (
                await conn.execute(
                    sa.select(collections.c.id).where(
                        collections.c.tenant_id == tenant_id, collections.c.id.in_(collection_ids)
                    )
                )
            ).scalars()
        )
    return [collection_id for collection_id in collection_ids if collection_id not in found]
