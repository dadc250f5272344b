"""Knowledge rows written straight into the database, for tests of the search and context SQL that need no
ingestion run: a collection of the local 384-d model and documents that finished ingesting."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncConnection

from common.knowledge_tables import collections, documents


async def add_collection(
    conn: AsyncConnection, tenant_id: str, collection_id: str, *, text_search_config: str = "english"
) -> None:
    await conn.execute(
        collections.insert().values(
            tenant_id=tenant_id,
            id=collection_id,
            name=collection_id,
            embedding_model="all-MiniLM-L6-v2",
            dimensions=384,
            chunk_size=200,
            chunk_overlap=0,
            text_search_config=text_search_config,
        )
    )


async def add_ready_document(
    conn: AsyncConnection, tenant_id: str, document_id: str, collection_id: str, title: str
) -> None:
    await conn.execute(
        documents.insert().values(
            tenant_id=tenant_id,
            id=document_id,
            collection_id=collection_id,
            title=title,
            source=title,
            content_type="text/plain",
            content_hash=document_id,
            size_bytes=0,
            raw=b"",
            status="ready",
        )
    )
