"""Action handlers of the conversation service, registered on `router`."""

from common.service import ServiceDeps
from common.workers.router import ActionRouter
from conversation_service.handlers import message_handler

router: ActionRouter[ServiceDeps] = ActionRouter()
router.include(message_handler.router)
