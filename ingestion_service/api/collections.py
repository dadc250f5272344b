from fastapi import APIRouter, Request, status

from common.audit import Audit
from common.auth import CurrentTenant
from ingestion_service.deps import IngestionAppDeps as Deps
from ingestion_service.models.knowledge import CollectionCreate, CollectionOut, CollectionUpdate
from ingestion_service.services import collections

router = APIRouter(prefix="/api/v1/collections", tags=["collections"])


@router.post("", status_code=status.HTTP_201_CREATED)
async def create(
    body: CollectionCreate, tenant: CurrentTenant, deps: Deps, request: Request, audit: Audit
) -> CollectionOut:
    """Create a knowledge collection.

    Its embedding model (allowed for the tier) and chunking are fixed at creation; the tier caps collections."""
    created = await collections.create_collection(deps.engine, tenant, body, request.app.state.settings)
    await audit.record("collection.created", "collection", created.id, after=created)
    return created


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
async def update(
    collection_id: str, body: CollectionUpdate, tenant: CurrentTenant, deps: Deps, audit: Audit
) -> CollectionOut:
    """Rename or describe a collection (PATCH).

    Only the fields sent change; `null` is refused (422)."""
    before = await collections.get_collection(deps.engine, tenant.tenant_id, collection_id)
    updated = await collections.update_collection(deps.engine, tenant.tenant_id, collection_id, body)
    await audit.record("collection.updated", "collection", collection_id, before=before, after=updated)
    return updated


@router.delete("/{collection_id}", status_code=status.HTTP_204_NO_CONTENT)
async def delete(collection_id: str, tenant: CurrentTenant, deps: Deps, audit: Audit) -> None:
    """Delete a collection.

    With its documents and their chunks."""
    before = await collections.get_collection(deps.engine, tenant.tenant_id, collection_id)
    await collections.delete_collection(deps.engine, tenant.tenant_id, collection_id)
    await audit.record("collection.deleted", "collection", collection_id, before=before)
