import re
from typing import Annotated

from fastapi import APIRouter, Form, Query, UploadFile, status

from common.audit import Audit
from common.auth import CurrentTenant, TenantIdentity
from common.errors import QuotaExceededError, ValidationError
from common.models.pagination import Page
from common.outbound import fetch_url, networks
from ingestion_service.deps import IngestionAppDeps as Deps
from ingestion_service.deps import IngestionDeps
from ingestion_service.models.knowledge import (
    ChunkOut,
    DocumentAccepted,
    DocumentOut,
    DocumentStatus,
    TextDocumentCreate,
    UrlDocumentCreate,
)
from ingestion_service.services import documents, queueing
from ingestion_service.services.extract import detect_kind

router = APIRouter(prefix="/api/v1/documents", tags=["documents"])


async def _accept(
    deps: IngestionDeps, tenant: TenantIdentity, collection_id: str, *, title: str, source: str, kind: str, raw: bytes
) -> DocumentAccepted:
    accepted = await documents.add_document(
        deps.engine, tenant, collection_id, title=title, source=source, kind=kind, raw=raw
    )
    if accepted.task_id:  # if Redis is down now, the sweeper queues it once it is back: the row is the record
        await queueing.enqueue(deps, tenant.tenant_id, tenant.tier, accepted.document.id, accepted.task_id)
    return accepted


@router.post("", status_code=status.HTTP_202_ACCEPTED)
async def upload(
    deps: Deps,
    tenant: CurrentTenant,
    file: UploadFile,
    collection_id: Annotated[str, Form()],
    title: Annotated[str | None, Form()] = None,
) -> DocumentAccepted:
    """Multipart upload (txt, md, html, pdf, docx, csv, json)."""
    if file.filename and re.search(r"[\x00-\x1f\x7f]", file.filename):
        raise ValidationError(
            "the file name holds a NUL byte or another control character; rename the file",
            code="invalid_file_name",
            details={"errors": [{"loc": ["body", "file", "filename"], "msg": "control characters are not allowed"}]},
        )
    kind = detect_kind(file.filename, file.content_type)
    limit = documents.max_upload_bytes(tenant)
    raw = await file.read(limit + 1)
    if len(raw) > limit:
        raise QuotaExceededError(
            f"files are limited to {limit // (1024 * 1024)} MB on this tier", code="file_too_large"
        )
    name = file.filename or "upload"
    return await _accept(deps, tenant, collection_id, title=title or name, source=name, kind=kind, raw=raw)


@router.post("/text", status_code=status.HTTP_202_ACCEPTED)
async def from_text(body: TextDocumentCreate, deps: Deps, tenant: CurrentTenant) -> DocumentAccepted:
    """Add a document from text.

    Queued for ingestion like an upload (202 with its task)."""
    raw = body.text.encode()
    return await _accept(
        deps, tenant, body.collection_id, title=body.title, source="text", kind=body.content_type, raw=raw
    )


@router.post("/url", status_code=status.HTTP_202_ACCEPTED)
async def from_url(body: UrlDocumentCreate, deps: Deps, tenant: CurrentTenant) -> DocumentAccepted:
    """Add a document from a URL.

    The page or file is fetched (private and loopback addresses are refused unless allowed), then ingested."""
    settings = deps.settings
    url = str(body.url)
    raw, content_type = await fetch_url(
        url,
        max_bytes=documents.max_upload_bytes(tenant),
        timeout_s=settings.url_fetch_timeout_s,
        allow_private=settings.allow_private_urls,
        allowed=networks(settings.outbound_allowed_networks),
    )
    kind = detect_kind(url.split("?")[0], content_type)
    return await _accept(deps, tenant, body.collection_id, title=body.title or url, source=url, kind=kind, raw=raw)


@router.get("")
async def list_(
    deps: Deps,
    tenant: CurrentTenant,
    collection_id: Annotated[str | None, Query()] = None,
    status: Annotated[DocumentStatus | None, Query(description="only documents in this state")] = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
    offset: Annotated[int, Query(ge=0)] = 0,
) -> Page[DocumentOut]:
    """List the tenant's documents.

    Newest first, paged with `limit` and `offset`, optionally of one collection and one status (e.g.
    `status=failed` to see what needs attention), each with its status and failure reason."""
    state = status.value if status else None
    return await documents.list_documents(deps.engine, tenant.tenant_id, collection_id, state, limit, offset)


@router.get("/usage")
async def usage(deps: Deps, tenant: CurrentTenant) -> dict[str, int | None]:
    """Documents added in the last 24 hours.

    Beside the tier's documents-per-day cap (`null`: unlimited) and its upload size limit."""
    return await documents.usage(deps.engine, tenant)


@router.get("/{document_id}")
async def get(document_id: str, deps: Deps, tenant: CurrentTenant) -> DocumentOut:
    """Get one document.

    Its status (`queued`, `processing`, `ready`, `failed`), failure reason and chunk count."""
    return await documents.get_document(deps.engine, tenant.tenant_id, document_id)


@router.get("/{document_id}/chunks")
async def chunks(
    document_id: str,
    deps: Deps,
    tenant: CurrentTenant,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
    offset: Annotated[int, Query(ge=0, le=10_000_000)] = 0,
) -> Page[ChunkOut]:
    """List a document's chunks.

    The pieces it was cut into, in reading order, with page or heading, size in tokens and whether each is
    embedded yet: what search and answers quote from."""
    return await documents.list_chunks(deps.engine, tenant.tenant_id, document_id, limit, offset)


@router.delete("/{document_id}", status_code=status.HTTP_204_NO_CONTENT)
async def delete(document_id: str, deps: Deps, tenant: CurrentTenant, audit: Audit) -> None:
    """Delete a document.

    With its chunks, in one transaction: it leaves search results at once."""
    before = await documents.get_document(deps.engine, tenant.tenant_id, document_id)
    await documents.delete_document(deps.engine, tenant.tenant_id, document_id)
    await audit.record("document.deleted", "document", document_id, before=before)
