"""Memory for conversations longer than an agent's window: each message embedded off the turn's path (for
recalling the earlier messages most like a new question), and the running summary of the older messages
(written by the execution service, which owns the models; kept here with the time of the last message it
covers)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncEngine

from common.clients.base_redis_client import BaseRedisClient
from common.contracts import embedding
from common.contracts.conversation import MessageOut, Unsummarized
from common.contracts.embedding import EmbedRequest
from common.models.actions import DomainAction
from conversation_service.models.tables import conversations, messages
from conversation_service.services.conversations import MESSAGE_COLUMNS

MEMORY_MODEL = "all-MiniLM-L6-v2"  # 384 dimensions, the `messages.embedding` column's (migration 0015)
MAX_EMBEDDED_CHARS = 4_000


def _of(tenant_id: str, conversation_id: str) -> Any:
    return sa.and_(messages.c.tenant_id == tenant_id, messages.c.conversation_id == conversation_id)


def _vector(values: list[float]) -> str:
    return "[" + ",".join(f"{v:.6f}" for v in values) + "]"


async def index(
    engine: AsyncEngine, client: BaseRedisClient, parent: DomainAction, conversation_id: str, message_ids: list[str]
) -> int:
    """Embeds the messages not embedded yet (bulk priority: a question being answered goes first)."""
    async with engine.connect() as conn:
        rows = (
            await conn.execute(
                sa.select(messages.c.message_id, messages.c.content).where(
                    _of(parent.tenant_id, conversation_id),
                    messages.c.message_id.in_(message_ids),
                    sa.text("embedding IS NULL"),
                    messages.c.content != "",
                )
            )
        ).all()
    if not rows:
        return 0
    request = EmbedRequest(texts=[r.content[:MAX_EMBEDDED_CHARS] for r in rows], model=MEMORY_MODEL, priority="bulk")
    vectors = (await client.call(embedding.GENERATE, request, parent=parent)).embeddings
    async with engine.begin() as conn:
        for row, vector in zip(rows, vectors, strict=True):
            await conn.execute(
                sa.text(
                    "UPDATE messages SET embedding = CAST(:v AS vector) "
                    "WHERE tenant_id = :t AND conversation_id = :c AND message_id = :m"
                ),
                {"v": _vector(vector), "t": parent.tenant_id, "c": conversation_id, "m": row.message_id},
            )
    return len(rows)


async def recall(
    engine: AsyncEngine,
    client: BaseRedisClient,
    parent: DomainAction,
    conversation_id: str,
    query: str,
    k: int,
    exclude_ids: list[str],
) -> list[MessageOut]:
    """The `k` embedded messages most like `query`, outside `exclude_ids`, oldest first."""
    request = EmbedRequest(texts=[query[:MAX_EMBEDDED_CHARS]], model=MEMORY_MODEL)
    [vector] = (await client.call(embedding.GENERATE, request, parent=parent)).embeddings
    distance = sa.text("embedding <=> CAST(:q AS vector)").bindparams(q=_vector(vector))
    async with engine.connect() as conn:
        rows = (
            await conn.execute(
                sa.select(*MESSAGE_COLUMNS)
                .where(
                    _of(parent.tenant_id, conversation_id),
                    sa.text("embedding IS NOT NULL"),
                    messages.c.message_id.not_in(exclude_ids) if exclude_ids else sa.true(),
                )
                .order_by(distance)
                .limit(k)
            )
        ).all()
    found = [MessageOut.model_validate(r._asdict()) for r in rows]
    return sorted(found, key=lambda m: m.created_at)


async def unsummarized(
    engine: AsyncEngine, tenant_id: str, conversation_id: str, keep_last: int, limit: int
) -> Unsummarized:
    """The summary, and the messages it does not cover, oldest first, the most recent `keep_last` left out."""
    async with engine.connect() as conn:
        summary = (
            await conn.execute(
                sa.select(conversations.c.summary, conversations.c.summary_through).where(
                    conversations.c.tenant_id == tenant_id, conversations.c.id == conversation_id
                )
            )
        ).one_or_none()
        recent = (
            sa.select(messages.c.id)
            .where(_of(tenant_id, conversation_id))
            .order_by(messages.c.created_at.desc(), messages.c.id.desc())
            .limit(keep_last)
        )
        where = [_of(tenant_id, conversation_id), messages.c.id.not_in(recent)]
        if summary is not None and summary.summary_through is not None:
            where.append(messages.c.created_at > summary.summary_through)
        rows = (
            await conn.execute(
                sa.select(*MESSAGE_COLUMNS).where(*where).order_by(messages.c.created_at, messages.c.id).limit(limit)
            )
        ).all()
    return Unsummarized(
        summary=summary.summary if summary else None, messages=[MessageOut.model_validate(r._asdict()) for r in rows]
    )


async def save_summary(
    engine: AsyncEngine, tenant_id: str, conversation_id: str, summary: str, through: datetime
) -> bool:
    """Stores the summary unless a newer one is there already (two summaries racing: the later one stays)."""
    async with engine.begin() as conn:
        result = await conn.execute(
            conversations.update()
            .where(
                conversations.c.tenant_id == tenant_id,
                conversations.c.id == conversation_id,
                sa.or_(conversations.c.summary_through.is_(None), conversations.c.summary_through < through),
            )
            .values(summary=summary, summary_through=through)
        )
    return bool(result.rowcount)
