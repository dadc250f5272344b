from typing import Annotated

from fastapi import APIRouter, Query, status

from agent_management_service.models.end_users import EndUserTokenCreate, EndUserTokenCreated, EndUserTokenOut
from agent_management_service.services import end_users
from common.audit import Audit
from common.auth import END_USER_ID_PATTERN, CurrentTenant, end_user_token_cache_key
from common.service import AppDeps as Deps

router = APIRouter(prefix="/api/v1/end-user-tokens", tags=["end users"])


@router.post("", status_code=status.HTTP_201_CREATED)
async def mint(body: EndUserTokenCreate, tenant: CurrentTenant, deps: Deps, audit: Audit) -> EndUserTokenCreated:
    """Mint an end-user token.

    For your backend: a short-lived token for one agent and one of your users, to hand to that user's browser
    (the chat widget, or your own client). It opens chat sessions with that agent only and reads only that
    user's conversations; every other route answers 403. The token is in this response only."""
    minted = await end_users.mint(deps.engine, tenant.tenant_id, body)
    after = minted.model_dump(mode="json", exclude={"token", "tenant_id"})
    await audit.record("end_user_token.minted", "end_user_token", minted.id, after=after)
    return minted


@router.get("")
async def list_(
    tenant: CurrentTenant,
    deps: Deps,
    end_user_id: Annotated[str | None, Query(pattern=END_USER_ID_PATTERN)] = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
) -> list[EndUserTokenOut]:
    """List end-user tokens.

    Newest first, optionally of one end user; never the token itself."""
    return await end_users.list_tokens(deps.engine, tenant.tenant_id, end_user_id, limit)


@router.delete("/{token_id}", status_code=status.HTTP_204_NO_CONTENT)
async def revoke(token_id: str, tenant: CurrentTenant, deps: Deps, audit: Audit) -> None:
    """Revoke an end-user token.

    Effective at once for new requests; open chat sockets using it close within a few seconds (4401)."""
    token_hash = await end_users.revoke(deps.engine, tenant.tenant_id, token_id)
    await deps.redis.delete(end_user_token_cache_key(deps.queues, token_hash))
    await audit.record(
        "end_user_token.revoked", "end_user_token", token_id, before={"revoked": False}, after={"revoked": True}
    )
