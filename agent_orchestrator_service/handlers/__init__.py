"""Handlers of the orchestrator: `router` for its action streams, `callback_router` for its callback list."""

from agent_orchestrator_service.handlers import chat_event_handler
from agent_orchestrator_service.services.chat_service import ChatService
from common.workers.router import ActionRouter

router: ActionRouter[ChatService] = (
    ActionRouter()
)  # the orchestrator is called over HTTP/WebSocket; no stream actions yet

callback_router: ActionRouter[ChatService] = ActionRouter()
callback_router.add("orchestrator.chat.event", chat_event_handler.chat_event)
