from typing import Annotated

from fastapi import APIRouter, Query, Request, WebSocket, status

from agent_orchestrator_service.models.chat import SessionCreate, SessionOut
from agent_orchestrator_service.services.chat_service import ChatService
from agent_orchestrator_service.services.chat_socket import ChatSocket
from agent_orchestrator_service.services.session_store import Session
from common.auth import (
    CurrentCaller,
    CurrentTenant,
    TenantResolver,
    check_origin,
    require_chat_scope,
    socket_credential,
)
from common.contracts.management import AgentOut
from common.errors import NoobleError
from common.models.pagination import Page
from common.websocket_errors import WS_TRY_AGAIN_LATER, close_with

router = APIRouter(tags=["chat"])


def chat_service(request: Request) -> ChatService:
    return request.app.state.chat


def ws_url(request: Request, session_id: str) -> str:
    settings = request.app.state.settings
    if settings.public_ws_url:
        base = settings.public_ws_url.rstrip("/")
    else:
        base = f"{'wss' if request.url.scheme == 'https' else 'ws'}://{request.url.netloc}"
    return f"{base}/ws/chat/{session_id}"


def session_out(request: Request, session: Session) -> SessionOut:
    return SessionOut(
        session_id=session.session_id,
        conversation_id=session.conversation_id,
        agent_id=session.agent_id,
        ws_url=ws_url(request, session.session_id),
        active_task=session.active_task,
        last_seq=session.seq,
    )


@router.post("/api/v1/chat/sessions", status_code=status.HTTP_201_CREATED)
async def create_session(body: SessionCreate, tenant: CurrentCaller, request: Request) -> SessionOut:
    """Open a chat session with an agent.

    Returns the `ws_url` to connect to (`?token=` API key, end-user token or JWT, `?last_seq=N` to resume after
    event N). 403 `agent_inactive` for a deactivated agent, `agent_not_allowed` for an end-user token of another
    agent; 404 for another tenant's agent or (end users) a conversation that is not theirs."""
    require_chat_scope(tenant)
    session = await chat_service(request).open_session(tenant, body.agent_id, body.conversation_id, body.end_user_id)
    return session_out(request, session)


@router.get("/api/v1/chat/sessions/{session_id}")
async def get_session(session_id: str, tenant: CurrentCaller, request: Request) -> SessionOut:
    """Get a chat session.

    Its agent, conversation, running turn and the last event `seq` (to resume a socket)."""
    return session_out(request, await chat_service(request).session_of(tenant, session_id))


@router.delete("/api/v1/chat/sessions/{session_id}", status_code=status.HTTP_204_NO_CONTENT)
async def close_session(session_id: str, tenant: CurrentCaller, request: Request) -> None:
    """Close a chat session.

    Its event log is dropped and its conversation closed; the stored messages stay."""
    require_chat_scope(tenant)
    chat = chat_service(request)
    await chat.close_session(await chat.session_of(tenant, session_id))


@router.get("/api/v1/chat/agents")
async def list_agents(tenant: CurrentTenant, request: Request) -> Page[AgentOut]:
    """List the tenant's agents for a chat client.

    The same list as the management service's, through the orchestrator (one origin for browsers)."""
    return await chat_service(request).management.list_agents(tenant.tenant_id, tenant.tier.value)


@router.websocket("/ws/chat/{session_id}")
async def chat_socket(
    websocket: WebSocket,
    session_id: str,
    token: Annotated[str | None, Query(description="API key or JWT; better sent in a first `auth` frame")] = None,
    last_seq: Annotated[int | None, Query(ge=0, le=2**63 - 1)] = None,
) -> None:
    await websocket.accept()
    chat: ChatService = websocket.app.state.chat
    resolver: TenantResolver = websocket.app.state.tenant_resolver
    credential = await socket_credential(websocket, token)
    try:
        tenant = await resolver.resolve(credential)
        # browsers do not apply CORS to sockets: the tenant's allowed origins are checked here
        check_origin(tenant, websocket.headers.get("origin"), websocket.headers.get("host"), resolver.settings)
        require_chat_scope(tenant)
        session = await chat.session_of(tenant, session_id)
    except NoobleError as exc:
        await close_with(websocket, exc)
        return
    if not chat.claim_socket():
        await websocket.close(code=WS_TRY_AGAIN_LATER, reason="this server holds its maximum of chat sockets")
        return
    try:
        await ChatSocket(websocket, chat, session, last_seq, tenant, lambda: resolver.resolve(credential)).run()
    finally:
        chat.release_socket()
