"""Action handlers of the ingestion service, registered on `router`."""

from common.workers.router import ActionRouter
from ingestion_service.handlers import ingest_handler

router = ActionRouter()
router.include(ingest_handler.router)
