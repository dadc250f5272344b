from common.contracts import ingestion
from common.contracts.ingestion import MissingCollections, VerifyCollections
from common.models.actions import DomainAction
from common.workers.router import ActionRouter
from ingestion_service.deps import IngestionDeps
from ingestion_service.services.collections import missing_collections

router: ActionRouter[IngestionDeps] = ActionRouter()


@router.handle(ingestion.VERIFY_COLLECTIONS)
async def verify(action: DomainAction, req: VerifyCollections, deps: IngestionDeps) -> MissingCollections:
    return MissingCollections(missing=await missing_collections(deps.engine, action.tenant_id, req.collection_ids))
