from common.models.actions import DomainAction
from common.service import ServiceDeps
from common.workers.router import ActionRouter
from conversation_service.models.conversations import (
    CloseSessionRequest,
    History,
    HistoryRequest,
    SaveMessageRequest,
    SaveMessagesRequest,
)
from conversation_service.services import conversations

router: ActionRouter[ServiceDeps] = ActionRouter()


@router.handle("conversation.message.save", SaveMessageRequest)
async def save(action: DomainAction, req: SaveMessageRequest, deps: ServiceDeps) -> dict[str, bool]:
    return {"stored": await conversations.save_messages(deps.engine, action, req.conversation_id, [req]) == 1}


@router.handle("conversation.messages.save", SaveMessagesRequest)
async def save_turn(action: DomainAction, req: SaveMessagesRequest, deps: ServiceDeps) -> dict[str, int]:
    return {"stored": await conversations.save_messages(deps.engine, action, req.conversation_id, req.messages)}


@router.handle("conversation.history.get", HistoryRequest)
async def history(action: DomainAction, req: HistoryRequest, deps: ServiceDeps) -> History:
    return await conversations.history(
        deps.engine, action.tenant_id, req.conversation_id, req.max_messages, req.max_tokens
    )


@router.handle("conversation.session.close", CloseSessionRequest)
async def close(action: DomainAction, req: CloseSessionRequest, deps: ServiceDeps) -> dict[str, int]:
    return {"closed": await conversations.close_session(deps.engine, action.tenant_id, req.session_id)}
