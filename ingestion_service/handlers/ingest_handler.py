from typing import Any

from common.models.actions import DomainAction
from common.workers.router import ActionRouter
from ingestion_service.deps import IngestionDeps
from ingestion_service.models.knowledge import IngestRequest
from ingestion_service.services.pipeline import ingest

router = ActionRouter()


@router.handle("ingestion.document.ingest", IngestRequest)
async def ingest_document(action: DomainAction, req: IngestRequest, deps: IngestionDeps) -> dict[str, Any]:
    return await ingest(action, req, deps)
