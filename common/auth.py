"""Who is calling: a tenant API key (`nk_...`) or an HS256 JWT with a `tenant_id` claim.

API keys are resolved by the management service (`management.tenant.resolve_key`) and cached
briefly in Redis, so a revoked key stops working within `auth_cache_ttl_s` (at once when the
management service drops the cache entry on revocation). JWTs are verified locally with the
platform secret; Supabase-style tokens may carry the tenant in `app_metadata`.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from typing import Annotated, Any

import jwt
from fastapi import Depends, Header, Request
from redis.asyncio import Redis

from common.clients.base_redis_client import BaseRedisClient
from common.errors import NoobleError, UnauthorizedError
from common.messaging.queue_manager import QueueManager
from common.models.actions import ErrorType
from common.models.tiers import Tier
from common.settings import CommonSettings

API_KEY_PREFIX = "nk_"


@dataclass(frozen=True)
class TenantIdentity:
    tenant_id: str
    tier: Tier
    via: str  # "api_key" | "jwt"


def hash_api_key(api_key: str) -> str:
    return hashlib.sha256(api_key.encode()).hexdigest()


def api_key_cache_key(queues: QueueManager, key_hash: str) -> str:
    return queues.cache_key("auth", "api_keys", key_hash)


class TenantResolver:
    def __init__(self, redis: Redis, settings: CommonSettings, origin_service: str):
        self.redis = redis
        self.settings = settings
        self.queues = QueueManager(settings.environment)
        self.client = BaseRedisClient(redis, settings, origin_service)

    async def resolve(self, credential: str | None) -> TenantIdentity:
        if not credential:
            raise UnauthorizedError(
                "missing credentials: send 'Authorization: Bearer <api key or JWT>'", code="missing_credentials"
            )
        if credential.startswith(API_KEY_PREFIX):
            return await self._from_api_key(credential)
        if credential.count(".") == 2:
            return self._from_jwt(credential)
        raise UnauthorizedError("credentials are neither an API key nor a JWT", code="invalid_credentials")

    async def _from_api_key(self, api_key: str) -> TenantIdentity:
        cache_key = api_key_cache_key(self.queues, hash_api_key(api_key))
        if cached := await self.redis.get(cache_key):
            doc = json.loads(cached)
        else:
            action = self.client.new_action(
                "management.tenant.resolve_key", tenant_id="platform", data={"api_key": api_key}
            )
            try:
                doc = await self.client.call(action, timeout=self.settings.auth_resolve_timeout_s)
            except NoobleError as exc:  # timeouts and dependency errors stay what they are
                if exc.error_type in {ErrorType.UNAUTHORIZED, ErrorType.VALIDATION_ERROR}:
                    raise UnauthorizedError("invalid or revoked API key", code="invalid_api_key") from None
                raise
            await self.redis.set(cache_key, json.dumps(doc), ex=self.settings.auth_cache_ttl_s)
        return TenantIdentity(doc["tenant_id"], Tier(doc["tier"]), "api_key")

    def _from_jwt(self, token: str) -> TenantIdentity:
        try:
            claims: dict[str, Any] = jwt.decode(
                token,
                self.settings.jwt_secret,
                algorithms=["HS256"],
                options={"require": ["exp"], "verify_aud": False},
            )
        except jwt.PyJWTError as exc:
            raise UnauthorizedError(f"invalid token: {exc}", code="invalid_token") from None
        app_metadata = claims.get("app_metadata") or {}
        tenant_id = claims.get("tenant_id") or app_metadata.get("tenant_id")
        if not isinstance(tenant_id, str) or not tenant_id:
            raise UnauthorizedError("token has no tenant_id claim", code="invalid_token")
        tier = claims.get("tier") or app_metadata.get("tier") or Tier.FREE.value
        try:
            return TenantIdentity(tenant_id, Tier(tier), "jwt")
        except ValueError:
            raise UnauthorizedError(f"token names an unknown tier {tier!r}", code="invalid_token") from None


def bearer(authorization: str | None) -> str | None:
    if authorization and authorization[:7].lower() == "bearer ":
        return authorization[7:].strip()
    return None


async def require_tenant(request: Request, authorization: Annotated[str | None, Header()] = None) -> TenantIdentity:
    """FastAPI dependency: the calling tenant, or a 401 with a typed JSON error."""
    resolver: TenantResolver = request.app.state.tenant_resolver
    return await resolver.resolve(bearer(authorization))


CurrentTenant = Annotated[TenantIdentity, Depends(require_tenant)]
