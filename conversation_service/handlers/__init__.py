"""Action handlers of the conversation service, registered on `router`."""

from common.workers.router import ActionRouter
from conversation_service.deps import ConversationDeps
from conversation_service.handlers import message_handler

router: ActionRouter[ConversationDeps] = ActionRouter()
router.include(message_handler.router)
