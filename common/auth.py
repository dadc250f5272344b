"""Who is calling: a tenant API key (`nk_...`) or a JWT that names a tenant.

Identity comes from the credential, policy from the store: an API key is resolved by the management
service (`management.tenant.resolve_key`, which receives only the key's SHA-256 — a raw key never crosses
Redis), a JWT's tenant by `management.tenant.resolve`; either way the tier and status are the database's,
never the token's. Resolutions are cached briefly in Redis (`auth_cache_ttl_s`) and dropped at once when a
key is revoked. Unknown or disabled tenants get 401.

JWT auth is off unless configured: HS256 with `NOOBLE4_JWT_SECRET`, and/or RS256/ES256 tokens of an
identity provider whose signing keys are published at `NOOBLE4_JWT_JWKS_URL` (Supabase, Auth0, Keycloak...).
The tenant is the `tenant_id` claim or `app_metadata.tenant_id`; an optional `user_id`/`sub` names the end user.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import re
from dataclasses import dataclass
from functools import cached_property
from typing import Annotated, Any

import jwt
from fastapi import Depends, Request, WebSocket
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from jwt.types import Options
from redis.asyncio import Redis

from common.clients.base_redis_client import BaseRedisClient
from common.errors import NoobleError, UnauthorizedError
from common.messaging.queue_manager import QueueManager
from common.models.actions import ErrorType
from common.models.tiers import Tier
from common.settings import CommonSettings
from common.tenancy import enter_tenant

API_KEY_PREFIX = "nk_"
API_KEY_PATTERN = re.compile(r"^nk_[A-Za-z0-9_-]{16,100}$")
TENANT_ID_PATTERN = re.compile(r"^[A-Za-z0-9_-]{1,36}$")
ASYMMETRIC_ALGORITHMS = ["RS256", "RS384", "RS512", "ES256", "ES384", "PS256"]


@dataclass(frozen=True)
class TenantIdentity:
    tenant_id: str
    tier: Tier
    via: str  # "api_key" | "jwt"
    user_id: str | None = None


def hash_api_key(api_key: str) -> str:
    return hashlib.sha256(api_key.encode()).hexdigest()


def api_key_cache_key(queues: QueueManager, key_hash: str) -> str:
    return queues.cache_key("auth", "api_keys", key_hash)


def tenant_cache_key(queues: QueueManager, tenant_id: str) -> str:
    return queues.cache_key("auth", "tenants", tenant_id)


class TenantResolver:
    def __init__(self, redis: Redis, settings: CommonSettings, origin_service: str):
        self.redis = redis
        self.settings = settings
        self.queues = QueueManager(settings.environment)
        self.client = BaseRedisClient(redis, settings, origin_service)

    @property
    def jwt_enabled(self) -> bool:
        return self.settings.jwt_secret is not None or self.settings.jwt_jwks_url is not None

    @cached_property
    def _jwks(self) -> jwt.PyJWKClient | None:
        url = self.settings.jwt_jwks_url
        return jwt.PyJWKClient(url, cache_keys=True, lifespan=300, timeout=5) if url else None

    async def resolve(self, credential: str | None) -> TenantIdentity:
        if not credential:
            raise UnauthorizedError(
                "missing credentials: send 'Authorization: Bearer <api key or JWT>'", code="missing_credentials"
            )
        if credential.startswith(API_KEY_PREFIX):
            if not API_KEY_PATTERN.match(credential):
                raise UnauthorizedError("invalid or revoked API key", code="invalid_api_key")
            return await self._from_api_key(credential)
        if credential.count(".") == 2:
            if not self.jwt_enabled:
                raise UnauthorizedError("JWT authentication is not enabled; use an API key", code="jwt_disabled")
            claims = await self._verify_jwt(credential)
            app_metadata = claims.get("app_metadata")
            tenant_id = claims.get("tenant_id") or (app_metadata or {}).get("tenant_id")
            if not isinstance(tenant_id, str) or not TENANT_ID_PATTERN.match(tenant_id):
                raise UnauthorizedError("token has no valid tenant_id claim", code="invalid_token")
            user = claims.get("user_id") or claims.get("sub")
            user_id = user if isinstance(user, str) and 0 < len(user) <= 128 and "\x00" not in user else None
            tier = await self._tenant_tier(tenant_id)
            return TenantIdentity(tenant_id, tier, "jwt", user_id)
        raise UnauthorizedError("credentials are neither an API key nor a JWT", code="invalid_credentials")

    async def _from_api_key(self, api_key: str) -> TenantIdentity:
        key_hash = hash_api_key(api_key)
        doc = await self._resolve_cached(
            api_key_cache_key(self.queues, key_hash),
            "management.tenant.resolve_key",
            {"key_hash": key_hash},
            UnauthorizedError("invalid or revoked API key", code="invalid_api_key"),
        )
        return TenantIdentity(doc["tenant_id"], Tier(doc["tier"]), "api_key")

    async def _tenant_tier(self, tenant_id: str) -> Tier:
        doc = await self._resolve_cached(
            tenant_cache_key(self.queues, tenant_id),
            "management.tenant.resolve",
            {"tenant_id": tenant_id},
            UnauthorizedError("unknown or disabled tenant", code="unknown_tenant"),
        )
        return Tier(doc["tier"])

    async def _resolve_cached(
        self, cache_key: str, action_type: str, data: dict[str, str], refused: UnauthorizedError
    ) -> dict[str, Any]:
        if cached := await self.redis.get(cache_key):
            doc: dict[str, Any] = json.loads(cached)
            return doc
        action = self.client.new_action(action_type, tenant_id="platform", data=data)
        try:
            doc = await self.client.call(action, timeout=self.settings.auth_resolve_timeout_s)
        except NoobleError as exc:  # timeouts and dependency errors stay what they are
            if exc.error_type in {ErrorType.UNAUTHORIZED, ErrorType.VALIDATION_ERROR, ErrorType.NOT_FOUND}:
                raise refused from None
            raise
        await self.redis.set(cache_key, json.dumps(doc), ex=self.settings.auth_cache_ttl_s)
        return doc

    async def _verify_jwt(self, token: str) -> dict[str, Any]:
        options: Options = {"require": ["exp"], "verify_aud": self.settings.jwt_audience is not None}
        try:
            algorithm = jwt.get_unverified_header(token).get("alg")
            if algorithm == "HS256" and self.settings.jwt_secret is not None:
                key: Any = self.settings.jwt_secret.get_secret_value()
            elif algorithm in ASYMMETRIC_ALGORITHMS and self._jwks is not None:
                key = (await asyncio.to_thread(self._jwks.get_signing_key_from_jwt, token)).key
            else:
                raise UnauthorizedError(f"token algorithm {algorithm!r} is not accepted", code="invalid_token")
            claims: dict[str, Any] = jwt.decode(
                token,
                key,
                algorithms=[algorithm],
                audience=self.settings.jwt_audience,
                issuer=self.settings.jwt_issuer,
                options=options,
            )
        except (jwt.PyJWTError, ValueError) as exc:
            raise UnauthorizedError(f"invalid token: {exc}", code="invalid_token") from None
        return claims


bearer_scheme = HTTPBearer(
    auto_error=False,
    bearerFormat="API key (nk_...) or JWT",
    description="A tenant API key, or a JWT naming the tenant where JWT auth is configured.",
)


AUTH_FRAME_TIMEOUT_S = 10.0


async def socket_credential(websocket: WebSocket, token: str | None) -> str | None:
    """A WebSocket's credential: `?token=`, an Authorization header, or a first frame
    `{"type": "auth", "token": ...}` — browsers cannot set headers on a WebSocket, and a key in the URL's query
    ends up in proxies' logs, so browser clients should use the frame."""
    if credential := token or bearer(websocket.headers.get("authorization")):
        return credential
    try:
        message = await asyncio.wait_for(websocket.receive(), AUTH_FRAME_TIMEOUT_S)
        frame = json.loads(message.get("text") or "")
    except (TimeoutError, ValueError):
        return None
    if isinstance(frame, dict) and frame.get("type") == "auth" and isinstance(frame.get("token"), str):
        return str(frame["token"])
    return None


def bearer(authorization: str | None) -> str | None:
    if authorization and authorization[:7].lower() == "bearer ":
        return authorization[7:].strip()
    return None


async def require_tenant(
    request: Request, credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer_scheme)] = None
) -> TenantIdentity:
    """FastAPI dependency: the calling tenant, or a 401 with a typed JSON error."""
    resolver: TenantResolver = request.app.state.tenant_resolver
    identity = await resolver.resolve(credentials.credentials if credentials else None)
    enter_tenant(identity.tenant_id)  # the request's database work sees only this tenant's rows
    return identity


CurrentTenant = Annotated[TenantIdentity, Depends(require_tenant)]
