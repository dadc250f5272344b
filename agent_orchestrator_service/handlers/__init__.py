"""Handlers of the orchestrator's callback list (turn events). It has no action streams: it is called over
HTTP and WebSocket, so it runs no stream worker."""

from agent_orchestrator_service.handlers import chat_event_handler
from agent_orchestrator_service.services.chat_service import ChatService
from common.contracts import orchestrator
from common.workers.router import ActionRouter

callback_router: ActionRouter[ChatService] = ActionRouter()
callback_router.add(orchestrator.CHAT_EVENT, chat_event_handler.chat_event)
