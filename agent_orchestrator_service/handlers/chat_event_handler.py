"""`orchestrator.chat.event` callbacks from the execution service, consumed on this replica's callback list."""

from typing import Any

import pydantic

from agent_orchestrator_service.services.chat_service import ChatService
from common.log import get_logger
from common.models.actions import DomainAction
from common.models.chat import ChatError, ChatEventCallback

log = get_logger(__name__)


async def chat_event(action: DomainAction, data: dict[str, Any], chat: ChatService) -> None:
    if not action.session_id:
        log.warning("chat_event_without_session")
        return
    if "error" in data and "event" not in data:  # the turn failed before it could answer (e.g. invalid payload)
        error = data["error"]
        task_id = action.task_id or ""
        failed = ChatError(
            code=error.get("error_code", "internal_error"), message=error.get("message", ""), task_id=task_id
        )
        await chat.on_event(action.session_id, task_id, failed)
        return
    try:
        callback = ChatEventCallback.model_validate(data)
    except pydantic.ValidationError as exc:
        log.warning("chat_event_invalid", error=str(exc))
        return
    await chat.on_event(action.session_id, callback.task_id, callback.event, callback.attempt, callback.n)
