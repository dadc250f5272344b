"""Action handlers of the ingestion service, registered on `router`."""

from common.workers.router import ActionRouter
from ingestion_service.deps import IngestionDeps
from ingestion_service.handlers import collection_handler, ingest_handler

router: ActionRouter[IngestionDeps] = ActionRouter()
router.include(collection_handler.router)
router.include(ingest_handler.router)
