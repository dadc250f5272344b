"""Action handlers of the management service, one module per entity, registered on `router`."""

from common.workers.router import ActionRouter

router = ActionRouter()
