from typing import Any

from common.models.actions import DomainAction, ErrorDetail, ErrorType
from common.workers.router import ActionRouter
from ingestion_service.deps import IngestionDeps
from ingestion_service.models.knowledge import IngestRequest
from ingestion_service.services.pipeline import fail_document, ingest

router: ActionRouter[IngestionDeps] = ActionRouter()


async def ingestion_given_up(action: DomainAction, error: ErrorDetail, deps: IngestionDeps) -> None:
    """The ingestion ended in failure for good: its document and task end `failed` with the reason."""
    document_id, task_id = action.data.get("document_id"), action.data.get("task_id")
    if isinstance(document_id, str) and isinstance(task_id, str):
        reason = f"{error.error_code}: {error.message}"
        retryable = error.error_type != ErrorType.VALIDATION_ERROR  # a file no try can read is not offered again
        await fail_document(deps, action.tenant_id, document_id, task_id, reason, retryable=retryable)


@router.handle("ingestion.document.ingest", IngestRequest, on_failure=ingestion_given_up)
async def ingest_document(action: DomainAction, req: IngestRequest, deps: IngestionDeps) -> dict[str, Any]:
    return await ingest(action, req, deps)
