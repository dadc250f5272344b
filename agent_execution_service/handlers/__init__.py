"""Action handlers of the execution service, one module per entity, registered on `router`."""

from agent_execution_service.deps import ExecutionDeps
from agent_execution_service.handlers import chat_handler
from common.workers.router import ActionRouter

router: ActionRouter[ExecutionDeps] = ActionRouter()
router.include(chat_handler.router)
