from common.models.actions import DomainAction
from common.workers.router import ActionRouter
from ingestion_service.deps import IngestionDeps
from ingestion_service.models.knowledge import VerifyCollections
from ingestion_service.services.collections import missing_collections

router: ActionRouter[IngestionDeps] = ActionRouter()


@router.handle("ingestion.collection.verify", VerifyCollections)
async def verify(action: DomainAction, req: VerifyCollections, deps: IngestionDeps) -> dict[str, list[str]]:
    return {"missing": await missing_collections(deps.engine, action.tenant_id, req.collection_ids)}
