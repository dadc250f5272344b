"""Action handlers of the management service, one module per entity, registered on `router`."""

from agent_management_service.handlers import agent_handler, tenant_handler
from common.service import ServiceDeps
from common.workers.router import ActionRouter

router: ActionRouter[ServiceDeps] = ActionRouter()
router.include(agent_handler.router)
router.include(tenant_handler.router)
