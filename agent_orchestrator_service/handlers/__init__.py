"""Action handlers of the orchestrator service, one module per entity, registered on `router`."""

from common.workers.router import ActionRouter

router = ActionRouter()
