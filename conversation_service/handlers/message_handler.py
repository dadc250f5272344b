from collections.abc import Sequence

from common.contracts import conversation
from common.contracts.conversation import (
    CloseSessionRequest,
    ConversationGetRequest,
    ConversationOut,
    History,
    HistoryRequest,
    SavedMessages,
    SaveMessageRequest,
    SaveMessagesRequest,
)
from common.models.actions import DomainAction
from common.models.conversations import NewMessage
from common.service import ServiceDeps
from common.stamps import history_stamp_key, restamp, stamp_for_read
from common.workers.router import ActionRouter
from conversation_service.services import conversations

router: ActionRouter[ServiceDeps] = ActionRouter()


@router.handle(conversation.SAVE_MESSAGE)
async def save(action: DomainAction, req: SaveMessageRequest, deps: ServiceDeps) -> None:
    await _save(action, req.conversation_id, [req], deps)


@router.handle(conversation.SAVE_MESSAGES)
async def save_turn(action: DomainAction, req: SaveMessagesRequest, deps: ServiceDeps) -> SavedMessages:
    return await _save(action, req.conversation_id, req.messages, deps)


async def _save(
    action: DomainAction, conversation_id: str, new: Sequence[NewMessage], deps: ServiceDeps
) -> SavedMessages:
    """Store the messages, then — when any was new — replace the conversation's history stamp."""
    stored = await conversations.save_messages(deps.engine, action, conversation_id, new)
    if not stored:
        return SavedMessages(stored=0)
    replaced, stamp = await restamp(deps.redis, history_stamp_key(deps.queues, action.tenant_id, conversation_id))
    return SavedMessages(stored=stored, replaced_stamp=replaced, stamp=stamp)


@router.handle(conversation.GET_HISTORY)
async def history(action: DomainAction, req: HistoryRequest, deps: ServiceDeps) -> History:
    key = history_stamp_key(deps.queues, action.tenant_id, req.conversation_id)
    stamp = await stamp_for_read(deps.redis, key)  # taken before the read (common.stamps)
    found = await conversations.history(
        deps.engine, action.tenant_id, req.conversation_id, req.max_messages, req.max_tokens
    )
    return found.model_copy(update={"stamp": stamp})


@router.handle(conversation.CLOSE_SESSION)
async def close(action: DomainAction, req: CloseSessionRequest, deps: ServiceDeps) -> None:
    await conversations.close_session(deps.engine, action.tenant_id, req.session_id)


@router.handle(conversation.GET_CONVERSATION)
async def get_conversation(action: DomainAction, req: ConversationGetRequest, deps: ServiceDeps) -> ConversationOut:
    return await conversations.get_summary(deps.engine, action.tenant_id, req.conversation_id)
