"""Tenants and their API keys. Keys are random, shown once, stored as SHA-256 with a visible prefix."""

from __future__ import annotations

import secrets
import uuid
from datetime import timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncEngine

from agent_management_service.models.tables import api_keys, tenants
from agent_management_service.models.tenants import ApiKeyCreate, ApiKeyCreated, ApiKeyOut, TenantOut
from common.auth import API_KEY_PREFIX, hash_api_key
from common.contracts.management import ResolvedTenant, TokenBudget
from common.errors import NotFoundError, UnauthorizedError
from common.models.actions import utc_now
from common.models.tiers import Tier

KEY_COLUMNS = (
    api_keys.c.id,
    api_keys.c.name,
    api_keys.c.prefix,
    api_keys.c.scopes,
    api_keys.c.created_at,
    api_keys.c.last_used_at,
    api_keys.c.revoked_at,
    api_keys.c.expires_at,
)


def new_api_key() -> str:
    return API_KEY_PREFIX + secrets.token_urlsafe(32)


async def create_tenant(engine: AsyncEngine, name: str, tier: Tier) -> tuple[TenantOut, ApiKeyCreated]:
    tenant_id = str(uuid.uuid4())
    async with engine.begin() as conn:
        row = (
            await conn.execute(tenants.insert().values(id=tenant_id, name=name, tier=tier.value).returning(*tenants.c))
        ).one()
        key = await _insert_key(conn, tenant_id, ApiKeyCreate(name="default"))
    return TenantOut.model_validate(row._asdict()), key


async def get_tenant(engine: AsyncEngine, tenant_id: str) -> TenantOut:
    async with engine.connect() as conn:
        row = (await conn.execute(sa.select(tenants).where(tenants.c.id == tenant_id))).one_or_none()
    if row is None:
        raise NotFoundError("tenant not found", code="tenant_not_found")
    return TenantOut.model_validate(row._asdict())


async def get_token_budget(engine: AsyncEngine, tenant_id: str) -> TokenBudget:
    async with engine.connect() as conn:
        row = (await conn.execute(sa.select(tenants.c.token_budget).where(tenants.c.id == tenant_id))).one_or_none()
    return TokenBudget.model_validate(row.token_budget if row else {})


async def set_token_budget(engine: AsyncEngine, tenant_id: str, budget: TokenBudget) -> TokenBudget:
    async with engine.begin() as conn:
        await conn.execute(
            tenants.update().where(tenants.c.id == tenant_id).values(token_budget=budget.model_dump(mode="json"))
        )
    return budget


async def create_key(engine: AsyncEngine, tenant_id: str, body: ApiKeyCreate) -> ApiKeyCreated:
    async with engine.begin() as conn:
        return await _insert_key(conn, tenant_id, body)


async def _insert_key(conn: Any, tenant_id: str, body: ApiKeyCreate) -> ApiKeyCreated:
    api_key = new_api_key()
    expires_at = utc_now() + timedelta(days=body.expires_in_days) if body.expires_in_days else None
    row = (
        await conn.execute(
            api_keys.insert()
            .values(
                id=str(uuid.uuid4()),
                tenant_id=tenant_id,
                name=body.name,
                prefix=api_key[:11],
                key_hash=hash_api_key(api_key),
                scopes=sorted({scope.value for scope in body.scopes}),
                expires_at=expires_at,
            )
            .returning(*KEY_COLUMNS)
        )
    ).one()
    return ApiKeyCreated(**row._asdict(), api_key=api_key)


async def list_keys(engine: AsyncEngine, tenant_id: str) -> list[ApiKeyOut]:
    async with engine.connect() as conn:
        rows = await conn.execute(
            sa.select(*KEY_COLUMNS).where(api_keys.c.tenant_id == tenant_id).order_by(api_keys.c.created_at)
        )
    return [ApiKeyOut.model_validate(row._asdict()) for row in rows]


async def revoke_key(engine: AsyncEngine, tenant_id: str, key_id: str) -> str:
    """Revokes the key; returns its hash so the caller can drop cached resolutions."""
    missing = NotFoundError("API key not found", code="api_key_not_found")
    return await revoke_credential(engine, api_keys, api_keys.c.key_hash, tenant_id, key_id, missing)


async def revoke_credential(
    engine: AsyncEngine, table: sa.Table, hash_column: sa.Column[Any], tenant_id: str, row_id: str, missing: Exception
) -> str:
    """Marks a stored credential (an API key, an end-user token) revoked, once; returns its hash so the caller
    can drop cached resolutions. Another tenant's or an unknown id raises `missing`."""
    async with engine.begin() as conn:
        credential_hash = (
            await conn.execute(
                table.update()
                .where(table.c.id == row_id, table.c.tenant_id == tenant_id)
                .values(revoked_at=sa.func.coalesce(table.c.revoked_at, sa.func.now()))
                .returning(hash_column)
            )
        ).scalar_one_or_none()
    if credential_hash is None:
        raise missing
    return str(credential_hash)


async def resolve_key(engine: AsyncEngine, key_hash: str) -> ResolvedTenant:
    """The tenant, scopes and expiry of a live key of an enabled tenant, by the key's hash; marks the key used.
    An expired key says so (401 `api_key_expired`)."""
    async with engine.begin() as conn:
        row = (
            await conn.execute(
                api_keys.update()
                .where(
                    api_keys.c.key_hash == key_hash,
                    api_keys.c.revoked_at.is_(None),
                    api_keys.c.tenant_id.in_(sa.select(tenants.c.id).where(tenants.c.disabled_at.is_(None))),
                )
                .values(last_used_at=sa.func.now())
                .returning(api_keys.c.id, api_keys.c.tenant_id, api_keys.c.scopes, api_keys.c.expires_at)
            )
        ).one_or_none()
        if row is None:
            raise UnauthorizedError("invalid or revoked API key", code="invalid_api_key")
        if row.expires_at is not None and row.expires_at <= utc_now():
            raise UnauthorizedError(f"this API key expired on {row.expires_at:%Y-%m-%d}", code="api_key_expired")
        tenant = (
            await conn.execute(
                sa.select(tenants.c.tier, tenants.c.allowed_origins).where(tenants.c.id == row.tenant_id)
            )
        ).one()
    return ResolvedTenant(
        tenant_id=row.tenant_id,
        tier=Tier(tenant.tier),
        allowed_origins=tenant.allowed_origins,
        scopes=row.scopes,
        expires_at=row.expires_at.timestamp() if row.expires_at else None,
        key_id=row.id,
    )


async def resolve_tenant(engine: AsyncEngine, tenant_id: str) -> ResolvedTenant:
    """An enabled tenant's tier and allowed origins (the policy a JWT's or an end user's tenant gets); unknown
    or disabled: unauthorized."""
    async with engine.connect() as conn:
        row = (
            await conn.execute(
                sa.select(tenants.c.tier, tenants.c.allowed_origins).where(
                    tenants.c.id == tenant_id, tenants.c.disabled_at.is_(None)
                )
            )
        ).one_or_none()
    if row is None:
        raise UnauthorizedError("unknown or disabled tenant", code="unknown_tenant")
    return ResolvedTenant(tenant_id=tenant_id, tier=Tier(row.tier), allowed_origins=row.allowed_origins)


async def set_allowed_origins(engine: AsyncEngine, tenant_id: str, origins: list[str]) -> TenantOut:
    async with engine.begin() as conn:
        row = (
            await conn.execute(
                tenants.update()
                .where(tenants.c.id == tenant_id)
                .values(allowed_origins=sorted(set(origins)))
                .returning(*tenants.c)
            )
        ).one()
    return TenantOut.model_validate(row._asdict())
