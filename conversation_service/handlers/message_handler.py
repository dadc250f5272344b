from collections.abc import Sequence

from common.contracts import conversation
from common.contracts.conversation import (
    CloseSessionRequest,
    ConversationGetRequest,
    ConversationOut,
    History,
    HistoryRequest,
    MemoryIndexRequest,
    Recalled,
    RecallRequest,
    SavedMessages,
    SaveMessageRequest,
    SaveMessagesRequest,
    SaveSummaryRequest,
    Unsummarized,
    UnsummarizedRequest,
)
from common.models.actions import DomainAction
from common.models.conversations import NewMessage
from common.stamps import history_stamp_key, restamp, stamp_for_read
from common.workers.router import ActionRouter
from conversation_service.deps import ConversationDeps
from conversation_service.services import conversations, memory

router: ActionRouter[ConversationDeps] = ActionRouter()


@router.handle(conversation.SAVE_MESSAGE)
async def save(action: DomainAction, req: SaveMessageRequest, deps: ConversationDeps) -> None:
    await _save(action, req.conversation_id, [req], deps)


@router.handle(conversation.SAVE_MESSAGES)
async def save_turn(action: DomainAction, req: SaveMessagesRequest, deps: ConversationDeps) -> SavedMessages:
    return await _save(action, req.conversation_id, req.messages, deps)


async def _save(
    action: DomainAction, conversation_id: str, new: Sequence[NewMessage], deps: ConversationDeps
) -> SavedMessages:
    """Store the messages, then — when any was new — replace the conversation's history stamp."""
    stored, summary = await conversations.save_messages(deps.engine, action, conversation_id, new)
    if not stored:
        return SavedMessages(stored=0)
    replaced, stamp = await restamp(deps.redis, history_stamp_key(deps.queues, action.tenant_id, conversation_id))
    return SavedMessages(stored=stored, replaced_stamp=replaced, stamp=stamp, summary=summary)


@router.handle(conversation.GET_HISTORY)
async def history(action: DomainAction, req: HistoryRequest, deps: ConversationDeps) -> History:
    key = history_stamp_key(deps.queues, action.tenant_id, req.conversation_id)
    stamp = await stamp_for_read(deps.redis, key)  # taken before the read (common.stamps)
    found = await conversations.history(
        deps.engine, action.tenant_id, req.conversation_id, req.max_messages, req.max_tokens
    )
    return found.model_copy(update={"stamp": stamp})


@router.handle(conversation.CLOSE_SESSION)
async def close(action: DomainAction, req: CloseSessionRequest, deps: ConversationDeps) -> None:
    await conversations.close_session(deps.engine, action.tenant_id, req.session_id)


@router.handle(conversation.GET_CONVERSATION)
async def get_conversation(
    action: DomainAction, req: ConversationGetRequest, deps: ConversationDeps
) -> ConversationOut:
    return await conversations.get_summary(deps.engine, action.tenant_id, req.conversation_id)


@router.handle(conversation.INDEX_MEMORY)
async def index_memory(action: DomainAction, req: MemoryIndexRequest, deps: ConversationDeps) -> None:
    await memory.index(deps.engine, deps.embedding, action, req.conversation_id, req.message_ids)


@router.handle(conversation.RECALL)
async def recall(action: DomainAction, req: RecallRequest, deps: ConversationDeps) -> Recalled:
    found = await memory.recall(
        deps.engine, deps.embedding, action, req.conversation_id, req.query, req.k, req.exclude_ids
    )
    return Recalled(messages=found)


@router.handle(conversation.GET_UNSUMMARIZED)
async def unsummarized(action: DomainAction, req: UnsummarizedRequest, deps: ConversationDeps) -> Unsummarized:
    return await memory.unsummarized(deps.engine, action.tenant_id, req.conversation_id, req.keep_last, req.limit)


@router.handle(conversation.SAVE_SUMMARY)
async def save_summary(action: DomainAction, req: SaveSummaryRequest, deps: ConversationDeps) -> SavedMessages:
    """The history's stamp is not replaced: kept copies get the new summary with the reply to their next save
    (SavedMessages.summary), so a summary never makes a turn read the history again."""
    saved = await memory.save_summary(deps.engine, action.tenant_id, req.conversation_id, req.summary, req.through)
    return SavedMessages(stored=int(saved))
