"""Who is calling: a tenant API key (`nk_...`), an end-user token (`neu_...`) or a JWT that names a tenant.

Identity comes from the credential, policy from the store: an API key is resolved by the management
service (`management.tenant.resolve_key`, which receives only the key's SHA-256 — a raw key never crosses
Redis), a JWT's tenant by `management.tenant.resolve`; either way the tier and status are the database's,
never the token's. Resolutions are cached briefly in Redis (`auth_cache_ttl_s`) and dropped at once when a
key is revoked. Unknown or disabled tenants get 401.

JWT auth is off unless configured: HS256 with `NOOBLE4_JWT_SECRET`, and/or RS256/ES256 tokens of an
identity provider whose signing keys are published at `NOOBLE4_JWT_JWKS_URL` (Supabase, Auth0, Keycloak...).
The tenant is the `tenant_id` claim or `app_metadata.tenant_id`; an optional `user_id`/`sub` names the end user.

End users. A tenant's backend mints an end-user token for one agent and one of its own users
(`POST /api/v1/end-user-tokens`, short-lived, optionally with a request budget); a JWT with an `agent_id`
claim is the same kind of credential, its `sub` the end user. Such a caller is `TenantIdentity.end_user`: it may
open chat sessions with that agent and read that end user's conversations; every other route answers 403
(`require_tenant`). An expired one answers 401 `token_expired`.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import re
import time
from dataclasses import dataclass
from functools import cached_property
from typing import Annotated, Any, TypeVar

import jwt
from fastapi import Depends, Request, WebSocket
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from jwt.types import Options
from pydantic import BaseModel
from redis.asyncio import Redis

from common.clients.base_redis_client import BaseRedisClient
from common.contracts import management
from common.contracts.contract import Contract, Req
from common.contracts.management import (
    KeyScope,
    ResolvedTenant,
    ResolveEndUserTokenRequest,
    ResolveKeyRequest,
    ResolveTenantRequest,
)
from common.errors import ForbiddenError, NoobleError, UnauthorizedError
from common.messaging.queue_manager import QueueManager
from common.models.actions import ErrorType
from common.models.tiers import Tier
from common.settings import CommonSettings
from common.tenancy import enter_tenant

API_KEY_PREFIX = "nk_"
API_KEY_PATTERN = re.compile(r"^nk_[A-Za-z0-9_-]{16,100}$")
END_USER_TOKEN_PREFIX = "neu_"
END_USER_TOKEN_PATTERN = re.compile(r"^neu_[A-Za-z0-9_-]{16,100}$")
END_USER_ID_PATTERN = r"^[^\x00-\x1f\x7f]{1,128}$"  # the tenant's own user ids: any printable text
TENANT_ID_PATTERN = re.compile(r"^[A-Za-z0-9_-]{1,36}$")
ASYMMETRIC_ALGORITHMS = ["RS256", "RS384", "RS512", "ES256", "ES384", "PS256"]


Resolved = TypeVar("Resolved", bound=BaseModel)  # what the management service resolves a credential to
ALL_SCOPES = frozenset({KeyScope.ADMIN.value})
READ_METHODS = frozenset({"GET", "HEAD"})


@dataclass(frozen=True)
class EndUserScope:
    """What an end-user credential allows: chat with one agent as one end user, until it expires."""

    agent_id: str
    end_user_id: str
    token_id: str  # the minted token's id, or the JWT's `jti` (else a digest of the JWT)
    expires_at: float  # epoch seconds
    request_budget: int | None = None  # chat turns this credential may start, when limited


@dataclass(frozen=True)
class TenantIdentity:
    tenant_id: str
    tier: Tier
    via: str  # "api_key" | "jwt" | "end_user_token"
    user_id: str | None = None  # the end user a tenant-wide JWT names (`sub`), if any
    end_user: EndUserScope | None = None
    allowed_origins: tuple[str, ...] = ()  # browser origins the tenant allows to embed its widget
    scopes: frozenset[str] = ALL_SCOPES  # an API key's (KeyScope); JWTs are tenant-wide
    key_id: str | None = None  # the API key's id (never the key)

    @property
    def actor(self) -> str:
        """Who acts, as the audit log names it: `api_key:<id>`, `jwt:<subject>` or `end_user:<token id>`."""
        if self.via == "api_key":
            return f"api_key:{self.key_id or 'unknown'}"
        if self.end_user is not None:
            return f"end_user:{self.end_user.token_id}"
        return f"jwt:{self.user_id or 'tenant'}"

    def may(self, scope: KeyScope) -> bool:
        return KeyScope.ADMIN in self.scopes or scope in self.scopes

    @property
    def end_user_id(self) -> str | None:
        return self.end_user.end_user_id if self.end_user else self.user_id


def hash_api_key(api_key: str) -> str:
    return hashlib.sha256(api_key.encode()).hexdigest()


def end_user_token_cache_key(queues: QueueManager, token_hash: str) -> str:
    return queues.cache_key("auth", "end_user_tokens", token_hash)


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
        if credential.startswith(END_USER_TOKEN_PREFIX):
            if not END_USER_TOKEN_PATTERN.match(credential):
                raise UnauthorizedError("invalid or revoked end-user token", code="invalid_end_user_token")
            return await self._from_end_user_token(credential)
        if credential.count(".") == 2:
            if not self.jwt_enabled:
                raise UnauthorizedError("JWT authentication is not enabled; use an API key", code="jwt_disabled")
            claims = await self._verify_jwt(credential)
            app_metadata = claims.get("app_metadata")
            tenant_id = claims.get("tenant_id") or (app_metadata or {}).get("tenant_id")
            if not isinstance(tenant_id, str) or not TENANT_ID_PATTERN.match(tenant_id):
                raise UnauthorizedError("token has no valid tenant_id claim", code="invalid_token")
            user = claims.get("user_id") or claims.get("sub")
            user_id = user if isinstance(user, str) and re.match(END_USER_ID_PATTERN, user) else None
            tenant = await self._tenant(tenant_id)
            end_user = _jwt_end_user(claims, credential, user_id)
            return TenantIdentity(tenant_id, tenant.tier, "jwt", user_id, end_user, tuple(tenant.allowed_origins))
        raise UnauthorizedError("credentials are neither an API key nor a JWT", code="invalid_credentials")

    async def _from_api_key(self, api_key: str) -> TenantIdentity:
        key_hash = hash_api_key(api_key)
        key = await self._resolve_cached(
            api_key_cache_key(self.queues, key_hash),
            management.RESOLVE_KEY,
            ResolveKeyRequest(key_hash=key_hash),
            UnauthorizedError("invalid or revoked API key", code="invalid_api_key"),
        )
        return TenantIdentity(
            key.tenant_id,
            key.tier,
            "api_key",
            allowed_origins=tuple(key.allowed_origins),
            scopes=frozenset(key.scopes or ALL_SCOPES),
            key_id=key.key_id,
        )

    async def _from_end_user_token(self, token: str) -> TenantIdentity:
        token_hash = hash_api_key(token)
        refused = UnauthorizedError("invalid or revoked end-user token", code="invalid_end_user_token")
        resolved = await self._resolve_cached(
            end_user_token_cache_key(self.queues, token_hash),
            management.RESOLVE_END_USER_TOKEN,
            ResolveEndUserTokenRequest(token_hash=token_hash),
            refused,
        )
        scope = EndUserScope(
            agent_id=resolved.agent_id,
            end_user_id=resolved.end_user_id,
            token_id=resolved.token_id,
            expires_at=resolved.expires_at,
            request_budget=resolved.request_budget,
        )
        _check_not_expired(scope)
        tenant = await self._tenant(resolved.tenant_id)
        origins = tuple(tenant.allowed_origins)
        return TenantIdentity(resolved.tenant_id, tenant.tier, "end_user_token", None, scope, origins)

    async def tenant_origins(self, tenant_id: str) -> tuple[str, ...]:
        """The origins a tenant allows to embed its widget (none for an unknown tenant)."""
        if not TENANT_ID_PATTERN.match(tenant_id):
            return ()
        try:
            return tuple((await self._tenant(tenant_id)).allowed_origins)
        except UnauthorizedError:
            return ()

    async def _tenant(self, tenant_id: str) -> ResolvedTenant:
        return await self._resolve_cached(
            tenant_cache_key(self.queues, tenant_id),
            management.RESOLVE_TENANT,
            ResolveTenantRequest(tenant_id=tenant_id),
            UnauthorizedError("unknown or disabled tenant", code="unknown_tenant"),
        )

    async def _resolve_cached(
        self, cache_key: str, contract: Contract[Req, Resolved], request: Req, refused: UnauthorizedError
    ) -> Resolved:
        """`contract`'s reply for `request`, from the auth cache when there (never past the credential's
        expiry); the management service's refusal as `refused`."""
        if cached := await self.redis.get(cache_key):
            return contract.parse_reply(json.loads(cached))
        try:
            doc = await self.client.call(
                contract, request, tenant_id="platform", timeout=self.settings.auth_resolve_timeout_s
            )
        except NoobleError as exc:  # timeouts and dependency errors stay what they are
            if exc.error_type == ErrorType.UNAUTHORIZED:  # the store's own words (e.g. an expired key)
                raise UnauthorizedError(exc.message, code=exc.code) from None
            if exc.error_type in {ErrorType.VALIDATION_ERROR, ErrorType.NOT_FOUND}:
                raise refused from None
            raise
        ttl_s = self.settings.auth_cache_ttl_s
        if expires_at := getattr(doc, "expires_at", None):  # never cached past the credential's own expiry
            ttl_s = max(1, min(ttl_s, int(expires_at - time.time()) + 1))
        await self.redis.set(cache_key, doc.model_dump_json(), ex=ttl_s)
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


def _check_not_expired(scope: EndUserScope) -> None:
    if scope.expires_at <= time.time():
        raise UnauthorizedError(
            "this end-user token has expired; the site that issued it must issue a new one", code="token_expired"
        )


def _jwt_end_user(claims: dict[str, Any], token: str, user_id: str | None) -> EndUserScope | None:
    """A JWT with an `agent_id` claim is an end-user credential for that agent (its `sub` the end user)."""
    agent_id = claims.get("agent_id")
    if agent_id is None:
        return None
    if not isinstance(agent_id, str) or not 0 < len(agent_id) <= 64 or user_id is None:
        raise UnauthorizedError("an end-user token needs a valid agent_id and sub", code="invalid_token")
    jti = claims.get("jti")
    token_id = jti if isinstance(jti, str) and 0 < len(jti) <= 64 else hash_api_key(token)[:32]
    budget = claims.get("request_budget")
    budget = budget if isinstance(budget, int) and not isinstance(budget, bool) and budget >= 0 else None
    return EndUserScope(agent_id, user_id, token_id, float(claims["exp"]), budget)


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


async def require_caller(
    request: Request, credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer_scheme)] = None
) -> TenantIdentity:
    """FastAPI dependency of the routes end users may call too (chat, their own conversations): the caller, or
    a 401 with a typed JSON error; a browser's request from an origin the tenant does not allow gets 403."""
    resolver: TenantResolver = request.app.state.tenant_resolver
    identity = await resolver.resolve(credentials.credentials if credentials else None)
    check_origin(identity, request.headers.get("origin"), request.headers.get("host"), resolver.settings)
    enter_tenant(identity.tenant_id)  # the request's database work sees only this tenant's rows
    return identity


async def require_tenant(
    request: Request, identity: Annotated[TenantIdentity, Depends(require_caller)]
) -> TenantIdentity:
    """FastAPI dependency: the calling tenant (API key or tenant-wide JWT); an end user gets 403, and so does a
    key whose scopes do not cover the request (a `read` key may GET, a `chat` key only chat)."""
    if identity.end_user is not None:
        raise ForbiddenError(
            "an end-user token can only chat with its agent and read its own conversations",
            code="end_user_forbidden",
        )
    if not identity.may(KeyScope.READ if request.method in READ_METHODS else KeyScope.ADMIN):
        raise ForbiddenError(
            f"this API key's scopes ({', '.join(sorted(identity.scopes))}) do not allow {request.method} here",
            code="scope_not_allowed",
        )
    return identity


def require_chat_scope(identity: TenantIdentity) -> None:
    """Chat is for admin and chat keys, JWTs and end users; a read-only key gets 403."""
    if identity.end_user is None and not identity.may(KeyScope.CHAT):
        raise ForbiddenError("this API key's scopes do not allow chat", code="scope_not_allowed")


def check_origin(identity: TenantIdentity, origin: str | None, host: str | None, settings: CommonSettings) -> None:
    """A browser request (it has an `Origin`) from another site than the platform's own pages must come from an
    origin the tenant allows (set in the console); servers send no `Origin` and are not concerned."""
    if not origin or (origin == "null" and identity.end_user is None):
        return
    if origin in settings.cors_origins or origin in identity.allowed_origins:
        return
    if host and origin.split("://", 1)[-1] == host:  # the platform's own page (the web chat, the widget frame)
        return
    raise ForbiddenError(
        f"origin {origin[:100]} is not allowed for this tenant; add it to the allowed origins in the console",
        code="origin_not_allowed",
    )


CurrentCaller = Annotated[TenantIdentity, Depends(require_caller)]
CurrentTenant = Annotated[TenantIdentity, Depends(require_tenant)]
