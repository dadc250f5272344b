"""Action handlers of the ingestion service, one module per entity, registered on `router`."""

from common.workers.router import ActionRouter

router = ActionRouter()
