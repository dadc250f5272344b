import pydantic

from common.contracts import ingestion
from common.contracts.ingestion import IngestRequest
from common.models.actions import DomainAction, ErrorDetail, ErrorType
from common.workers.router import ActionRouter
from ingestion_service.deps import IngestionDeps
from ingestion_service.services.pipeline import fail_document, ingest

router: ActionRouter[IngestionDeps] = ActionRouter()


async def ingestion_given_up(action: DomainAction, error: ErrorDetail, deps: IngestionDeps) -> None:
    """The ingestion ended in failure for good: its document and task end `failed` with the reason."""
    try:
        req = IngestRequest.model_validate(action.data)
    except pydantic.ValidationError:
        return  # no document to fail: the action itself was unreadable
    reason = f"{error.error_code}: {error.message}"
    retryable = error.error_type != ErrorType.VALIDATION_ERROR  # a file no try can read is not offered again
    await fail_document(deps, action.tenant_id, req.document_id, req.task_id, reason, retryable=retryable)


@router.handle(ingestion.INGEST_DOCUMENT, on_failure=ingestion_given_up)
async def ingest_document(action: DomainAction, req: IngestRequest, deps: IngestionDeps) -> None:
    await ingest(action, req, deps)
