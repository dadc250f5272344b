from typing import Annotated, Any

from fastapi import APIRouter, Depends, status

from agent_management_service.models.tenants import AllowedOrigins, ApiKeyCreate, ApiKeyCreated, ApiKeyOut, TenantOut
from agent_management_service.services import tenants
from common.audit import Audit
from common.auth import CurrentTenant, api_key_cache_key, tenant_cache_key
from common.policy import TenantRateLimiter, tenant_rate_limiter
from common.service import AppDeps as Deps

router = APIRouter(prefix="/api/v1/tenants", tags=["tenants"])


@router.get("/me")
async def me(tenant: CurrentTenant, deps: Deps) -> TenantOut:
    """Get the calling tenant.

    Its id, name, tier and creation time, as the database holds them."""
    return await tenants.get_tenant(deps.engine, tenant.tenant_id)


@router.put("/me/allowed-origins")
async def set_allowed_origins(body: AllowedOrigins, tenant: CurrentTenant, deps: Deps, audit: Audit) -> TenantOut:
    """Set the web origins allowed to embed the chat widget.

    Pages of these origins (e.g. `https://www.example.com`) may frame the widget and call the chat API from a
    browser with an end-user token; any other site is refused (403 `origin_not_allowed`, `frame-ancestors`)."""
    before = await tenants.get_tenant(deps.engine, tenant.tenant_id)
    updated = await tenants.set_allowed_origins(deps.engine, tenant.tenant_id, body.allowed_origins)
    await deps.redis.delete(tenant_cache_key(deps.queues, tenant.tenant_id))  # effective at once
    await audit.record(
        "tenant.allowed_origins_set",
        "tenant",
        tenant.tenant_id,
        before={"allowed_origins": before.allowed_origins},
        after={"allowed_origins": updated.allowed_origins},
    )
    return updated


@router.get("/me/usage")
async def usage(
    tenant: CurrentTenant, limiter: Annotated[TenantRateLimiter, Depends(tenant_rate_limiter)]
) -> dict[str, Any]:
    """The tenant's request budget.

    For each window of its tier (minute, day): the limit, the requests used and when it resets. The budget is
    shared by chat turns, generate, search and embeddings."""
    return {"tier": tenant.tier.value, "requests": await limiter.usage(tenant.tenant_id, tenant.tier)}


@router.get("/me/keys")
async def list_keys(tenant: CurrentTenant, deps: Deps) -> list[ApiKeyOut]:
    """List the tenant's API keys.

    Name, visible prefix, creation, last use and revocation times; never the key itself."""
    return await tenants.list_keys(deps.engine, tenant.tenant_id)


@router.post("/me/keys", status_code=status.HTTP_201_CREATED)
async def create_key(body: ApiKeyCreate, tenant: CurrentTenant, deps: Deps, audit: Audit) -> ApiKeyCreated:
    """Create an API key.

    With scopes (`admin` everything, `read` every GET, `chat` chat sessions and conversations) and an optional
    expiry. The key is in this response only; the platform stores its SHA-256."""
    created = await tenants.create_key(deps.engine, tenant.tenant_id, body)
    await audit.record("api_key.created", "api_key", created.id, after=created.model_dump(exclude={"api_key"}))
    return created


@router.delete("/me/keys/{key_id}", status_code=status.HTTP_204_NO_CONTENT)
async def revoke_key(key_id: str, tenant: CurrentTenant, deps: Deps, audit: Audit) -> None:
    """Revoke an API key.

    Effective at once for new requests; open chat sockets using it close within a few seconds (4401)."""
    key_hash = await tenants.revoke_key(deps.engine, tenant.tenant_id, key_id)
    await deps.redis.delete(api_key_cache_key(deps.queues, key_hash))  # effective at once
    await audit.record("api_key.revoked", "api_key", key_id, before={"revoked": False}, after={"revoked": True})
