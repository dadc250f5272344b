"""Action handlers of the query service, one module per entity, registered on `router`."""

from common.workers.router import ActionRouter

router = ActionRouter()
