"""Tables of the knowledge base: written by the ingestion service, read by the query service (migration 0004)."""

import sqlalchemy as sa
from pgvector.sqlalchemy import Vector
from sqlalchemy.dialects.postgresql import JSONB

metadata = sa.MetaData()

collections = sa.Table(
    "collections",
    metadata,
    sa.Column("tenant_id", sa.String(36), primary_key=True),
    sa.Column("id", sa.String(36), primary_key=True),
    sa.Column("name", sa.String(120)),
    sa.Column("description", sa.Text),
    sa.Column("embedding_model", sa.String(100)),
    sa.Column("dimensions", sa.Integer),
    sa.Column("chunk_size", sa.Integer),
    sa.Column("chunk_overlap", sa.Integer),
    sa.Column("text_search_config", sa.Text, server_default="english"),  # lexical search language (0008)
    sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.func.now()),
    sa.Column("updated_at", sa.DateTime(timezone=True), server_default=sa.func.now()),
)

documents = sa.Table(
    "documents",
    metadata,
    sa.Column("tenant_id", sa.String(36), primary_key=True),
    sa.Column("id", sa.String(36), primary_key=True),
    sa.Column("collection_id", sa.String(36)),
    sa.Column("title", sa.Text),
    sa.Column("source", sa.Text),
    sa.Column("content_type", sa.String(40)),
    sa.Column("content_hash", sa.String(64)),
    sa.Column("size_bytes", sa.Integer),
    sa.Column("raw", sa.LargeBinary),
    sa.Column("status", sa.String(16)),
    sa.Column("error", sa.Text),
    # a failure that may pass on another try (a dependency gave up), unlike an empty or unreadable file (0010)
    sa.Column("error_retryable", sa.Boolean, nullable=False, server_default=sa.false()),
    sa.Column("chunk_count", sa.Integer, server_default="0"),
    sa.Column("metadata", JSONB, server_default=sa.text("'{}'::jsonb")),
    sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.func.now()),
    sa.Column("updated_at", sa.DateTime(timezone=True), server_default=sa.func.now()),
)

ingestion_tasks = sa.Table(
    "ingestion_tasks",
    metadata,
    sa.Column("tenant_id", sa.String(36), primary_key=True),
    sa.Column("id", sa.String(36), primary_key=True),
    sa.Column("document_id", sa.String(36)),
    sa.Column("status", sa.String(16)),
    sa.Column("stage", sa.String(16)),
    sa.Column("percent", sa.Integer, server_default="0"),
    sa.Column("chunks_total", sa.Integer, server_default="0"),
    sa.Column("chunks_embedded", sa.Integer, server_default="0"),
    sa.Column("error", sa.Text),
    sa.Column("tier", sa.String(16), server_default="free"),  # the stream its work is queued on
    sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.func.now()),
    sa.Column("updated_at", sa.DateTime(timezone=True), server_default=sa.func.now()),
)

chunks = sa.Table(
    "chunks",
    metadata,
    sa.Column("id", sa.BigInteger, primary_key=True),
    sa.Column("tenant_id", sa.String(36)),
    sa.Column("collection_id", sa.String(36)),
    sa.Column("document_id", sa.String(36)),
    sa.Column("position", sa.Integer),
    sa.Column("content", sa.Text),
    sa.Column("page", sa.Integer),
    sa.Column("heading", sa.Text),
    sa.Column("token_count", sa.Integer),
    sa.Column("dimensions", sa.Integer),
    sa.Column("embedding", Vector()),
    sa.Column("term_count", sa.Integer),  # the chunk's length in lexical terms, for BM25 (migration 0008)
)
