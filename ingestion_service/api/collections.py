from fastapi import APIRouter, Request, status

from common.auth import CurrentTenant
from ingestion_service.deps import IngestionAppDeps as Deps
from ingestion_service.models.knowledge import CollectionCreate, CollectionOut, CollectionUpdate
from ingestion_service.services import collections

router = APIRouter(prefix="/api/v1/collections", tags=["collections"])


@router.post("", status_code=status.HTTP_201_CREATED)
async def create(body: CollectionCreate, tenant: CurrentTenant, deps: Deps, request: Request) -> CollectionOut:
    """Create a knowledge collection.

    Its embedding model (allowed for the tier) and chunking are fixed at creation; the tier caps collections."""
    return await collections.create_collection(deps.engine, tenant, body, request.app.state.settings)


@router.get("")
async def list_(tenant: CurrentTenant, deps: Deps) -> list[CollectionOut]:
    """List the tenant's collections.

    With their document counts."""
    return await collections.list_collections(deps.engine, tenant.tenant_id)


@router.get("/{collection_id}")
async def get(collection_id: str, tenant: CurrentTenant, deps: Deps) -> CollectionOut:
    """Get one collection.

    404 when it does not exist or belongs to another tenant."""
    return await collections.get_collection(deps.engine, tenant.tenant_id, collection_id)


@router.patch("/{collection_id}")
async def update(collection_id: str, body: CollectionUpdate, tenant: CurrentTenant, deps: Deps) -> CollectionOut:
    """Rename or describe a collection (PATCH).

    Only the fields sent change; `null` is refused (422)."""
    return await collections.update_collection(deps.engine, tenant.tenant_id, collection_id, body)


@router.delete("/{collection_id}", status_code=status.HTTP_204_NO_CONTENT)
async def delete(collection_id: str, tenant: CurrentTenant, deps: Deps) -> None:
    """Delete a collection.

    With its documents and their chunks."""
    await collections.delete_collection(deps.engine, tenant.tenant_id, collection_id)
