"""Action handlers of the management service, one module per entity, registered on `router`."""

from agent_management_service.deps import ManagementDeps
from agent_management_service.handlers import agent_handler, tenant_handler, usage_handler, webhook_handler
from common.workers.router import ActionRouter

router: ActionRouter[ManagementDeps] = ActionRouter()
router.include(agent_handler.router)
router.include(tenant_handler.router)
router.include(usage_handler.router)
router.include(webhook_handler.router)
