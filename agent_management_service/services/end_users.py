"""End-user tokens: random, shown once, stored as SHA-256; each for one agent and one end user, until it
expires or is revoked."""

from __future__ import annotations

import secrets
import uuid
from datetime import timedelta

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncEngine

from agent_management_service.models.end_users import (
    EndUserTokenCreate,
    EndUserTokenCreated,
    EndUserTokenOut,
)
from agent_management_service.models.tables import end_user_tokens, tenants
from agent_management_service.services.agents import get_agent
from agent_management_service.services.tenants import revoke_credential
from common.auth import END_USER_TOKEN_PREFIX, hash_api_key
from common.contracts.management import ResolvedEndUserToken
from common.errors import NotFoundError, UnauthorizedError
from common.models.actions import utc_now

TOKEN_COLUMNS = (
    end_user_tokens.c.id,
    end_user_tokens.c.agent_id,
    end_user_tokens.c.end_user_id,
    end_user_tokens.c.request_budget,
    end_user_tokens.c.created_at,
    end_user_tokens.c.expires_at,
    end_user_tokens.c.revoked_at,
)


async def mint(engine: AsyncEngine, tenant_id: str, body: EndUserTokenCreate) -> EndUserTokenCreated:
    """A token for one of the tenant's agents (404 for another tenant's or a deleted one)."""
    await get_agent(engine, tenant_id, body.agent_id)
    token = END_USER_TOKEN_PREFIX + secrets.token_urlsafe(32)
    async with engine.begin() as conn:
        row = (
            await conn.execute(
                end_user_tokens.insert()
                .values(
                    id=str(uuid.uuid4()),
                    tenant_id=tenant_id,
                    agent_id=body.agent_id,
                    end_user_id=body.end_user_id,
                    token_hash=hash_api_key(token),
                    request_budget=body.request_budget,
                    expires_at=utc_now() + timedelta(seconds=body.expires_in_s),
                )
                .returning(*TOKEN_COLUMNS)
            )
        ).one()
    return EndUserTokenCreated(**row._asdict(), token=token, tenant_id=tenant_id)


async def list_tokens(
    engine: AsyncEngine, tenant_id: str, end_user_id: str | None, limit: int
) -> list[EndUserTokenOut]:
    where = [end_user_tokens.c.tenant_id == tenant_id]
    if end_user_id is not None:
        where.append(end_user_tokens.c.end_user_id == end_user_id)
    async with engine.connect() as conn:
        rows = await conn.execute(
            sa.select(*TOKEN_COLUMNS).where(*where).order_by(end_user_tokens.c.created_at.desc()).limit(limit)
        )
    return [EndUserTokenOut.model_validate(row._asdict()) for row in rows]


async def revoke(engine: AsyncEngine, tenant_id: str, token_id: str) -> str:
    """Revokes the token; returns its hash so the caller can drop cached resolutions."""
    missing = NotFoundError("end-user token not found", code="end_user_token_not_found")
    token_hash = end_user_tokens.c.token_hash
    return await revoke_credential(engine, end_user_tokens, token_hash, tenant_id, token_id, missing)


async def resolve(engine: AsyncEngine, token_hash: str) -> ResolvedEndUserToken:
    """A live token of an enabled tenant, by its hash. An expired one resolves (the caller answers
    `token_expired`, which says more than "invalid")."""
    async with engine.connect() as conn:
        row = (
            await conn.execute(
                sa.select(*TOKEN_COLUMNS, end_user_tokens.c.tenant_id).where(
                    end_user_tokens.c.token_hash == token_hash,
                    end_user_tokens.c.revoked_at.is_(None),
                    end_user_tokens.c.tenant_id.in_(sa.select(tenants.c.id).where(tenants.c.disabled_at.is_(None))),
                )
            )
        ).one_or_none()
    if row is None:
        raise UnauthorizedError("invalid or revoked end-user token", code="invalid_end_user_token")
    return ResolvedEndUserToken(
        tenant_id=row.tenant_id,
        token_id=row.id,
        agent_id=row.agent_id,
        end_user_id=row.end_user_id,
        expires_at=row.expires_at.timestamp(),
        request_budget=row.request_budget,
    )
