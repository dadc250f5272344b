"""`orchestrator.chat.event` callbacks from the execution service, consumed on this replica's callback list."""

from agent_orchestrator_service.services.chat_service import ChatService
from common.contracts.orchestrator import ChatEventCallback
from common.log import get_logger
from common.models.actions import DomainAction
from common.models.chat import ChatError

log = get_logger(__name__)


async def chat_event(action: DomainAction, callback: ChatEventCallback, chat: ChatService) -> None:
    task_id = callback.task_id or action.task_id
    if not action.session_id or not task_id:
        log.warning("chat_event_without_session")
        return
    if callback.error is not None:  # the turn could not run at all (e.g. its action was refused)
        failed = ChatError(code=callback.error.error_code, message=callback.error.message, task_id=task_id)
        await chat.on_event(action.session_id, task_id, failed)
        return
    await chat.on_event(action.session_id, task_id, callback.event, callback.attempt, callback.n)
