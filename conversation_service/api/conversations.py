import re
from typing import Annotated

from fastapi import APIRouter, Query, status
from fastapi.responses import JSONResponse

from common.auth import CurrentTenant
from common.models.pagination import Page
from common.service import AppDeps
from common.stamps import history_stamp_key, restamp
from conversation_service.models.conversations import ConversationOut, ConversationWithMessages, TenantStats
from conversation_service.services import conversations

router = APIRouter(prefix="/api/v1/conversations", tags=["conversations"])


@router.get("")
async def list_(
    tenant: CurrentTenant,
    deps: AppDeps,
    agent_id: str | None = None,
    limit: Annotated[int, Query(ge=1, le=100)] = 20,
    offset: Annotated[int, Query(ge=0)] = 0,
) -> Page[ConversationOut]:
    """List conversations.

    Newest first, optionally of one agent, paged with `limit` and `offset`."""
    return await conversations.list_conversations(deps.engine, tenant.tenant_id, agent_id, limit, offset)


@router.get("/stats")
async def stats(tenant: CurrentTenant, deps: AppDeps) -> TenantStats:
    """Conversation statistics of the tenant.

    Conversations and messages stored, and tokens used."""
    return await conversations.stats(deps.engine, tenant.tenant_id)


@router.get("/{conversation_id}")
async def get(conversation_id: str, tenant: CurrentTenant, deps: AppDeps) -> ConversationWithMessages:
    """Get a conversation with its messages.

    Messages oldest first, with their role, content, token counts and sources."""
    return await conversations.get_conversation(deps.engine, tenant.tenant_id, conversation_id)


def safe_filename(value: str) -> str:
    """Only characters that cannot break a header or a file name (ids of older clients may hold others)."""
    return re.sub(r"[^A-Za-z0-9._-]", "_", value)[:64]


@router.get("/{conversation_id}/export")
async def export(conversation_id: str, tenant: CurrentTenant, deps: AppDeps) -> JSONResponse:
    """Export a conversation as a JSON file.

    The same document as `GET /api/v1/conversations/{id}`, as an attachment."""
    conversation = await conversations.get_conversation(deps.engine, tenant.tenant_id, conversation_id)
    return JSONResponse(
        conversation.model_dump(mode="json"),
        headers={"Content-Disposition": f'attachment; filename="conversation-{safe_filename(conversation_id)}.json"'},
    )


@router.delete("/{conversation_id}", status_code=status.HTTP_204_NO_CONTENT)
async def delete(conversation_id: str, tenant: CurrentTenant, deps: AppDeps) -> None:
    """Delete a conversation and its messages.

    Permanent."""
    await conversations.delete_conversation(deps.engine, tenant.tenant_id, conversation_id)
    await restamp(deps.redis, history_stamp_key(deps.queues, tenant.tenant_id, conversation_id))  # copies go stale
