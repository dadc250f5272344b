import re
from typing import Annotated

from fastapi import APIRouter, Query, status
from fastapi.responses import JSONResponse

from common.audit import Audit
from common.auth import END_USER_ID_PATTERN, CurrentCaller, CurrentTenant, TenantIdentity
from common.contracts.conversation import ConversationOut
from common.models.pagination import Page
from common.service import AppDeps
from common.stamps import history_stamp_key, restamp
from conversation_service.models.conversations import (
    ConversationWithMessages,
    DailyUsage,
    EndUsers,
    TenantStats,
)
from conversation_service.services import conversations

router = APIRouter(prefix="/api/v1/conversations", tags=["conversations"])


@router.get("")
async def list_(
    caller: CurrentCaller,
    deps: AppDeps,
    agent_id: str | None = None,
    end_user_id: Annotated[str | None, Query(pattern=END_USER_ID_PATTERN)] = None,
    limit: Annotated[int, Query(ge=1, le=100)] = 20,
    offset: Annotated[int, Query(ge=0)] = 0,
) -> Page[ConversationOut]:
    """List conversations.

    Newest first, optionally of one agent and one end user, paged with `limit` and `offset`. With an end-user
    token: that end user's conversations with its agent only."""
    if caller.end_user is not None:
        agent_id, end_user_id = caller.end_user.agent_id, caller.end_user.end_user_id
    return await conversations.list_conversations(deps.engine, caller.tenant_id, agent_id, limit, offset, end_user_id)


@router.get("/stats")
async def stats(tenant: CurrentTenant, deps: AppDeps) -> TenantStats:
    """Conversation statistics of the tenant.

    Conversations and messages stored, and tokens used."""
    return await conversations.stats(deps.engine, tenant.tenant_id)


@router.get("/usage/daily")
async def daily_usage(
    tenant: CurrentTenant,
    deps: AppDeps,
    days: Annotated[int, Query(ge=1, le=366)] = 30,
    end_user_id: Annotated[str | None, Query(pattern=END_USER_ID_PATTERN)] = None,
) -> list[DailyUsage]:
    """Usage per day.

    Messages and model tokens (prompt, completion) per UTC day over the last `days` days, oldest first, every
    day listed; optionally of one end user."""
    return await conversations.daily_usage(deps.engine, tenant.tenant_id, days, end_user_id)


@router.get("/end-users")
async def end_users(tenant: CurrentTenant, deps: AppDeps, limit: Annotated[int, Query(ge=1, le=500)] = 100) -> EndUsers:
    """The tenant's end users.

    How many, and for each (most tokens first): conversations, turns (questions asked) and tokens."""
    return await conversations.end_users(deps.engine, tenant.tenant_id, limit)


def _owner(caller: TenantIdentity) -> tuple[str, str] | None:
    return (caller.end_user.agent_id, caller.end_user.end_user_id) if caller.end_user else None


@router.get("/{conversation_id}")
async def get(conversation_id: str, caller: CurrentCaller, deps: AppDeps) -> ConversationWithMessages:
    """Get a conversation with its messages.

    Messages oldest first, with their role, content, token counts and sources; `incomplete` marks an answer cut
    short by the turn's time limit. An end user gets only its own (404 otherwise)."""
    return await conversations.get_conversation(deps.engine, caller.tenant_id, conversation_id, _owner(caller))


def safe_filename(value: str) -> str:
    """Only characters that cannot break a header or a file name (ids of older clients may hold others)."""
    return re.sub(r"[^A-Za-z0-9._-]", "_", value)[:64]


@router.get("/{conversation_id}/export")
async def export(conversation_id: str, caller: CurrentCaller, deps: AppDeps) -> JSONResponse:
    """Export a conversation as a JSON file.

    The same document as `GET /api/v1/conversations/{id}`, as an attachment."""
    conversation = await conversations.get_conversation(deps.engine, caller.tenant_id, conversation_id, _owner(caller))
    return JSONResponse(
        conversation.model_dump(mode="json"),
        headers={"Content-Disposition": f'attachment; filename="conversation-{safe_filename(conversation_id)}.json"'},
    )


@router.delete("/{conversation_id}", status_code=status.HTTP_204_NO_CONTENT)
async def delete(conversation_id: str, tenant: CurrentTenant, deps: AppDeps, audit: Audit) -> None:
    """Delete a conversation and its messages.

    Permanent."""
    await conversations.delete_conversation(deps.engine, tenant.tenant_id, conversation_id)
    await audit.record("conversation.deleted", "conversation", conversation_id, before={"deleted": False})
    await restamp(deps.redis, history_stamp_key(deps.queues, tenant.tenant_id, conversation_id))  # copies go stale
