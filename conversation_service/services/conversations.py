"""Conversations and messages. Every statement is scoped by tenant_id; saves are idempotent."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncEngine

from common.contracts.conversation import ConversationOut, History, MessageOut
from common.errors import NotFoundError
from common.models.actions import DomainAction, utc_now
from common.models.conversations import NewMessage, history_window
from common.models.pagination import Page
from conversation_service.models.conversations import (
    ConversationWithMessages,
    DailyUsage,
    EndUsers,
    EndUserUsage,
    TenantStats,
)
from conversation_service.models.tables import conversations, messages

MESSAGE_COLUMNS = (
    messages.c.message_id,
    messages.c.role,
    messages.c.content,
    messages.c.tokens,
    messages.c.usage,
    messages.c.sources,
    messages.c.tool_calls,
    messages.c.incomplete,
    messages.c.context,
    messages.c.created_at,
)
CONVERSATION_COLUMNS = [c for c in conversations.c if c.name != "tenant_id"]


def _conversation(tenant_id: str, conversation_id: str) -> Any:
    return sa.and_(conversations.c.tenant_id == tenant_id, conversations.c.id == conversation_id)


MESSAGE_FIELDS = (
    "tenant_id", "conversation_id", "message_id", "role", "content", "tokens", "usage", "sources", "tool_calls",
    "incomplete", "context", "created_at",
)  # fmt: skip
CONVERSATION_FIELDS = ("tenant_id", "id", "agent_id", "session_id", "end_user_id", "title")
COUNTERS = ("message_count", "total_tokens", "prompt_tokens", "completion_tokens")


def _save_statement() -> sa.Insert:
    """Insert the message (nothing if it is a redelivery) and, only if it was new, create its conversation or
    add the message to its counters: a data-modifying CTE feeding an upsert. Built once; values are bound."""
    new_message = (
        insert(messages)
        .values({name: sa.bindparam(f"m_{name}", type_=messages.c[name].type) for name in MESSAGE_FIELDS})
        .on_conflict_do_nothing(constraint="uq_messages_idempotency")
        .returning(messages.c.id)
        .cte("new_message")
    )
    names = [*CONVERSATION_FIELDS, *COUNTERS]
    upsert = insert(conversations).from_select(
        names,
        sa.select(*(sa.bindparam(f"c_{name}", type_=conversations.c[name].type).label(name) for name in names)).where(
            sa.exists(sa.select(new_message.c.id))
        ),
    )
    return (
        upsert.on_conflict_do_update(
            index_elements=[conversations.c.tenant_id, conversations.c.id],
            set_={
                **{name: conversations.c[name] + upsert.excluded[name] for name in COUNTERS},
                "title": sa.func.coalesce(conversations.c.title, upsert.excluded.title),
                "updated_at": sa.func.now(),
            },
        )
        .returning(conversations.c.id, conversations.c.summary)
        .add_cte(new_message)
    )


SAVE_MESSAGE = _save_statement()


async def save_messages(
    engine: AsyncEngine, action: DomainAction, conversation_id: str, new: Sequence[NewMessage]
) -> tuple[int, str | None]:
    """Stores each message once, in order, one statement each (SAVE_MESSAGE) in one transaction; a redelivered
    action changes nothing. Returns how many were new, and the conversation's running summary (read by the same
    statement). A message without an id is the action's own."""
    stored, summary = 0, None
    async with engine.begin() as conn:  # one transaction: row-level security applies to it
        for message in new:
            params = _save_parameters(action, conversation_id, message)
            row = (await conn.execute(SAVE_MESSAGE, params)).first()
            if row is not None:
                stored, summary = stored + 1, row.summary
    return stored, summary


def _save_parameters(action: DomainAction, conversation_id: str, new: NewMessage) -> dict[str, Any]:
    tokens = new.tokens()
    message = {
        "tenant_id": action.tenant_id,
        "conversation_id": conversation_id,
        "message_id": new.message_id or action.action_id,
        "role": new.role.value,
        "content": new.content,
        "tokens": tokens,
        "usage": new.usage.model_dump() if new.usage else None,
        "sources": new.sources,
        "tool_calls": new.tool_calls,
        "incomplete": new.incomplete,
        "context": new.context,
        "created_at": new.created_at or action.timestamp,  # when written: saves handled out of order sort right
    }
    conversation = {
        "tenant_id": action.tenant_id,
        "id": conversation_id,
        "agent_id": action.agent_id,
        "session_id": action.session_id,
        "end_user_id": action.user_id,
        "title": new.content[:80] if new.role == "user" else None,
        "message_count": 1,
        # the model's tokens (prompt + completion) as reported or counted for the answer; a question adds none
        "total_tokens": new.usage.total_tokens if new.usage else 0,
        "prompt_tokens": new.usage.prompt_tokens if new.usage else 0,
        "completion_tokens": new.usage.completion_tokens if new.usage else 0,
    }
    return {f"m_{k}": v for k, v in message.items()} | {f"c_{k}": v for k, v in conversation.items()}


async def history(
    engine: AsyncEngine, tenant_id: str, conversation_id: str, max_messages: int, max_tokens: int
) -> History:
    """The most recent messages that fit both limits, oldest first."""
    async with engine.connect() as conn:
        rows = (
            await conn.execute(
                sa.select(*MESSAGE_COLUMNS)
                .where(messages.c.tenant_id == tenant_id, messages.c.conversation_id == conversation_id)
                .order_by(messages.c.created_at.desc(), messages.c.id.desc())
                .limit(max_messages)
            )
        ).all()
        kept = history_window(
            (MessageOut.model_validate(row._asdict()) for row in rows), max_messages, max_tokens, lambda m: m.tokens
        )
        memory = (
            await conn.execute(
                sa.select(
                    conversations.c.message_count, conversations.c.summary, conversations.c.summary_through
                ).where(_conversation(tenant_id, conversation_id))
            )
        ).one_or_none()
        older = max(0, memory.message_count - len(kept)) if memory else 0
        unsummarized = older
        if older and memory and memory.summary_through is not None:
            covered = (
                await conn.execute(
                    sa.select(sa.func.count()).where(
                        messages.c.tenant_id == tenant_id,
                        messages.c.conversation_id == conversation_id,
                        messages.c.created_at <= memory.summary_through,
                    )
                )
            ).scalar_one()
            unsummarized = max(0, older - covered)
    return History(
        conversation_id=conversation_id,
        messages=kept,
        total_tokens=sum(m.tokens for m in kept),
        older=older,
        unsummarized=unsummarized,
        summary=memory.summary if memory else None,
    )


async def close_session(engine: AsyncEngine, tenant_id: str, session_id: str) -> int:
    async with engine.begin() as conn:
        result = await conn.execute(
            conversations.update()
            .where(
                conversations.c.tenant_id == tenant_id,
                conversations.c.session_id == session_id,
                conversations.c.closed_at.is_(None),
            )
            .values(closed_at=sa.func.now())
        )
    return result.rowcount


async def list_conversations(
    engine: AsyncEngine,
    tenant_id: str,
    agent_id: str | None,
    limit: int,
    offset: int,
    end_user_id: str | None = None,
) -> Page[ConversationOut]:
    where = [conversations.c.tenant_id == tenant_id]
    if agent_id:
        where.append(conversations.c.agent_id == agent_id)
    if end_user_id is not None:
        where.append(conversations.c.end_user_id == end_user_id)
    async with engine.connect() as conn:
        total = (await conn.execute(sa.select(sa.func.count()).select_from(conversations).where(*where))).scalar_one()
        rows = await conn.execute(
            sa.select(*CONVERSATION_COLUMNS)
            .where(*where)
            .order_by(conversations.c.updated_at.desc(), conversations.c.id)
            .limit(limit)
            .offset(offset)
        )
    return Page[ConversationOut](
        items=[ConversationOut.model_validate(r._asdict()) for r in rows], total=total, limit=limit, offset=offset
    )


async def get_summary(engine: AsyncEngine, tenant_id: str, conversation_id: str) -> ConversationOut:
    """The conversation without its messages (e.g. to learn whose it is)."""
    async with engine.connect() as conn:
        return await _summary(conn, tenant_id, conversation_id, None)


async def _summary(conn: Any, tenant_id: str, conversation_id: str, owner: tuple[str, str] | None) -> ConversationOut:
    row = (
        await conn.execute(sa.select(*CONVERSATION_COLUMNS).where(_conversation(tenant_id, conversation_id)))
    ).one_or_none()
    if row is None or (owner is not None and (row.agent_id, row.end_user_id) != owner):
        raise NotFoundError("conversation not found", code="conversation_not_found")
    return ConversationOut.model_validate(row._asdict())


async def get_conversation(
    engine: AsyncEngine, tenant_id: str, conversation_id: str, owner: tuple[str, str] | None = None
) -> ConversationWithMessages:
    """The conversation with its messages; with `owner` (agent id, end user id), only if it is theirs."""
    async with engine.connect() as conn:
        summary = await _summary(conn, tenant_id, conversation_id, owner)
        rows = await conn.execute(
            sa.select(*MESSAGE_COLUMNS)
            .where(messages.c.tenant_id == tenant_id, messages.c.conversation_id == conversation_id)
            .order_by(messages.c.created_at, messages.c.id)
        )
    return ConversationWithMessages(
        **summary.model_dump(), messages=[MessageOut.model_validate(r._asdict()) for r in rows]
    )


async def delete_conversation(engine: AsyncEngine, tenant_id: str, conversation_id: str) -> None:
    async with engine.begin() as conn:
        deleted = (
            await conn.execute(
                conversations.delete().where(_conversation(tenant_id, conversation_id)).returning(conversations.c.id)
            )
        ).scalar_one_or_none()
    if deleted is None:
        raise NotFoundError("conversation not found", code="conversation_not_found")


async def stats(engine: AsyncEngine, tenant_id: str) -> TenantStats:
    async with engine.connect() as conn:
        row = (
            await conn.execute(
                sa.select(
                    sa.func.count(),
                    sa.func.coalesce(sa.func.sum(conversations.c.message_count), 0),
                    sa.func.coalesce(sa.func.sum(conversations.c.total_tokens), 0),
                    sa.func.coalesce(sa.func.sum(conversations.c.prompt_tokens), 0),
                    sa.func.coalesce(sa.func.sum(conversations.c.completion_tokens), 0),
                ).where(conversations.c.tenant_id == tenant_id)
            )
        ).one()
        today = (
            await conn.execute(
                sa.select(sa.func.count(), sa.func.coalesce(sa.func.sum(messages.c.tokens), 0)).where(
                    messages.c.tenant_id == tenant_id,
                    messages.c.created_at > sa.func.now() - sa.text("interval '1 day'"),
                )
            )
        ).one()
    return TenantStats(
        conversations=row[0],
        messages=row[1],
        total_tokens=row[2],
        prompt_tokens=row[3],
        completion_tokens=row[4],
        messages_last_24h=today[0],
        message_tokens_last_24h=today[1],
    )


async def end_users(engine: AsyncEngine, tenant_id: str, limit: int) -> EndUsers:
    """The tenant's end users (conversations that name one): conversations, turns and tokens of each, the most
    active first."""
    named = sa.and_(conversations.c.tenant_id == tenant_id, conversations.c.end_user_id.is_not(None))
    turns = sa.func.coalesce(
        sa.select(sa.func.count())
        .where(
            messages.c.tenant_id == conversations.c.tenant_id,
            messages.c.conversation_id == conversations.c.id,
            messages.c.role == "user",
        )
        .correlate(conversations)
        .scalar_subquery(),
        0,
    )
    async with engine.connect() as conn:
        total = (
            await conn.execute(sa.select(sa.func.count(sa.distinct(conversations.c.end_user_id))).where(named))
        ).scalar_one()
        rows = await conn.execute(
            sa.select(
                conversations.c.end_user_id,
                sa.func.count().label("conversations"),
                sa.func.sum(turns).label("turns"),
                sa.func.sum(conversations.c.total_tokens).label("total_tokens"),
                sa.func.sum(conversations.c.prompt_tokens).label("prompt_tokens"),
                sa.func.sum(conversations.c.completion_tokens).label("completion_tokens"),
                sa.func.max(conversations.c.updated_at).label("last_active_at"),
            )
            .where(named)
            .group_by(conversations.c.end_user_id)
            .order_by(sa.func.sum(conversations.c.total_tokens).desc(), conversations.c.end_user_id)
            .limit(limit)
        )
    return EndUsers(total=total, items=[EndUserUsage.model_validate(r._asdict()) for r in rows])


async def daily_usage(engine: AsyncEngine, tenant_id: str, days: int, end_user_id: str | None) -> list[DailyUsage]:
    """Messages and model tokens per day (UTC) over the last `days` days, oldest first, days without any
    included; optionally of one end user's conversations."""
    day = sa.func.date_trunc("day", sa.func.timezone("UTC", messages.c.created_at)).label("day")
    tokens = messages.c.usage
    where = [
        messages.c.tenant_id == tenant_id,
        messages.c.created_at >= sa.func.now() - sa.func.make_interval(0, 0, 0, days),
    ]
    if end_user_id is not None:
        where.append(
            messages.c.conversation_id.in_(
                sa.select(conversations.c.id).where(
                    conversations.c.tenant_id == tenant_id, conversations.c.end_user_id == end_user_id
                )
            )
        )
    async with engine.connect() as conn:
        rows = await conn.execute(
            sa.select(
                day,
                sa.func.count().label("messages"),
                sa.func.coalesce(sa.func.sum(tokens["prompt_tokens"].as_integer()), 0).label("prompt_tokens"),
                sa.func.coalesce(sa.func.sum(tokens["completion_tokens"].as_integer()), 0).label("completion_tokens"),
            )
            .where(*where)
            .group_by(day)
        )
        found = {row.day.date(): row for row in rows}
    today = utc_now().date()
    series = []
    for back in range(days - 1, -1, -1):
        date = today - timedelta(days=back)
        row = found.get(date)
        series.append(
            DailyUsage(
                day=date,
                messages=row.messages if row else 0,
                prompt_tokens=row.prompt_tokens if row else 0,
                completion_tokens=row.completion_tokens if row else 0,
            )
        )
    return series
