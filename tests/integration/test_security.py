"""Security findings of the adversarial review, each on real Redis and PostgreSQL and real services."""

from __future__ import annotations

import asyncio
import json
import threading
import time
from collections.abc import AsyncIterator, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import httpx
import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric import rsa

from agent_management_service.app import SPEC as MANAGEMENT
from agent_management_service.settings import ManagementSettings
from common.auth import TenantIdentity
from common.clients.base_redis_client import BaseRedisClient
from common.contracts import embedding
from common.contracts.embedding import EmbedRequest
from common.database import create_engine
from common.models.tiers import Tier
from embedding_service.app import SPEC as EMBEDDING
from embedding_service.settings import EmbeddingSettings
from ingestion_service.models.knowledge import CollectionCreate
from ingestion_service.services.collections import create_collection
from ingestion_service.services.documents import add_document
from ingestion_service.settings import IngestionSettings
from query_service.app import SPEC as QUERY
from query_service.settings import QuerySettings
from tests.support.helpers import jwt_headers, new_tenant, redis_contents
from tests.support.services import running

AGENT = {"name": "Helper", "system_prompt": "Be helpful."}
OLD_PUBLIC_DEFAULT = "development-only-secret-change-me-in-production"  # shipped in common/settings.py before


@pytest.fixture
async def services(migrated, redis) -> AsyncIterator[dict[str, httpx.AsyncClient]]:
    async with (
        running(MANAGEMENT, ManagementSettings()) as management,
        running(EMBEDDING, EmbeddingSettings()) as embedding,
        running(QUERY, QuerySettings()) as query,
    ):
        yield {"management": management, "embedding": embedding, "query": query}


async def test_no_token_signed_with_a_public_or_default_secret_is_accepted(services, migrated) -> None:
    tenant_id, _ = await new_tenant(migrated, "enterprise")
    for secret in (OLD_PUBLIC_DEFAULT, "a-different-secret-that-is-also-long-enough"):
        forged = jwt_headers(secret, tenant_id)
        response = await services["management"].get("/api/v1/agents", headers=forged)
        assert response.status_code == 401, secret
    # and with no JWT secret configured at all, JWT auth is simply off
    async with running(MANAGEMENT, ManagementSettings(jwt_secret=None)) as no_jwt:
        token = jwt_headers(migrated.jwt_secret.get_secret_value(), tenant_id)
        response = await no_jwt.get("/api/v1/agents", headers=token)
        assert response.status_code == 401 and response.json()["error"]["error_code"] == "jwt_disabled"


async def test_identity_comes_from_the_token_and_policy_from_the_store(services, migrated) -> None:
    secret = migrated.jwt_secret.get_secret_value()
    tenant_id, _ = await new_tenant(migrated, "free")  # one agent at most
    claims_enterprise = jwt_headers(secret, tenant_id, tier="enterprise")
    first = await services["management"].post("/api/v1/agents", json=AGENT, headers=claims_enterprise)
    assert first.status_code == 201, first.text
    second = await services["management"].post("/api/v1/agents", json=AGENT, headers=claims_enterprise)
    assert second.status_code == 403 and second.json()["error"]["error_code"] == "agent_quota_exceeded"
    paid = {**AGENT, "model": {"provider": "openai", "name": "gpt-4o"}}
    refused = await services["management"].post("/api/v1/agents", json=paid, headers=claims_enterprise)
    assert refused.status_code == 403
    unknown = jwt_headers(secret, "00000000-0000-0000-0000-000000000000")
    response = await services["management"].get("/api/v1/agents", headers=unknown)
    assert response.status_code == 401 and response.json()["error"]["error_code"] == "unknown_tenant"
    bad_ids = [jwt_headers(secret, "a\x00b"), jwt_headers(secret, "x" * 200)]
    for headers in bad_ids:
        assert (await services["management"].get("/api/v1/agents", headers=headers)).status_code == 401


async def test_free_tier_cannot_reach_paid_models_through_any_endpoint(services, migrated) -> None:
    _, auth = await new_tenant(migrated, "free")
    generate = await services["query"].post(
        "/api/v1/query/generate", json={"query": "hi", "collection_ids": ["c"], "model": "openai:gpt-4o"}, headers=auth
    )
    assert generate.status_code == 403 and generate.json()["error"]["error_code"] == "model_not_allowed"
    embed = await services["embedding"].post(
        "/api/v1/embeddings", json={"input": "hi", "model": "text-embedding-3-small"}, headers=auth
    )
    assert embed.status_code == 403 and embed.json()["error"]["error_code"] == "model_not_allowed"


async def test_request_limits_apply_to_search_generate_and_embeddings(services, migrated) -> None:
    _, auth = await new_tenant(migrated, "free")  # 10 requests per minute, shared
    statuses = []
    for i in range(10):
        endpoint: tuple[str, str, dict[str, Any]] = ("embedding", "/api/v1/embeddings", {"input": f"text {i}"})
        if i % 2:
            endpoint = ("query", "/api/v1/query/search", {"query": "x", "collection_ids": ["none"], "mode": "text"})
        service, path, body = endpoint
        statuses.append((await services[service].post(path, json=body, headers=auth)).status_code)
    assert 429 not in statuses, statuses
    for service, path, body in (
        ("embedding", "/api/v1/embeddings", {"input": "one more"}),
        ("query", "/api/v1/query/generate", {"query": "x", "collection_ids": ["none"]}),
    ):
        limited = await services[service].post(path, json=body, headers=auth)
        assert limited.status_code == 429, limited.text
        assert limited.json()["error"]["error_code"] == "rate_limited"
        assert int(limited.headers["Retry-After"]) >= 1


async def test_api_keys_never_rest_in_redis(services, migrated, redis, queues) -> None:
    _, auth = await new_tenant(migrated, "professional")
    raw_key = auth["Authorization"].split()[1]
    for _ in range(3):
        assert (await services["management"].get("/api/v1/agents", headers=auth)).status_code == 200
    seen = await redis_contents(redis, queues.prefix)
    assert seen, "the calls left nothing in Redis to inspect"
    assert not [item for item in seen if raw_key in item or raw_key[3:] in item]


async def test_documents_per_day_cap_holds_under_concurrent_uploads(migrated) -> None:
    settings = IngestionSettings()
    engine = create_engine(settings)
    tenant_id, _ = await new_tenant(migrated, "free")  # 10 documents per day
    tenant = TenantIdentity(tenant_id, Tier.FREE, "api_key")
    try:
        collection = await create_collection(engine, tenant, CollectionCreate(name="c"), settings)

        async def upload(i: int) -> bool:
            try:
                raw = f"document number {i}".encode()
                await add_document(engine, tenant, collection.id, title=f"d{i}", source="t", kind="txt", raw=raw)
            except Exception as exc:
                assert getattr(exc, "code", None) == "document_limit", exc
                return False
            return True

        accepted = await asyncio.gather(*(upload(i) for i in range(20)))
    finally:
        await engine.dispose()
    assert sum(accepted) == 10


async def test_embedding_cache_is_per_tenant(services, redis, migrated) -> None:
    client = BaseRedisClient(redis, migrated, "tester")
    text = EmbedRequest(texts=["a sentence only tenant A has embedded"])
    first = await client.call(embedding.GENERATE, text, tenant_id="tenant-a")
    again = await client.call(embedding.GENERATE, text, tenant_id="tenant-a")
    other = await client.call(embedding.GENERATE, text, tenant_id="tenant-b")
    assert first.cached == 0 and again.cached == 1
    assert other.cached == 0  # tenant B cannot learn (by timing) what tenant A embedded


class _Jwks:
    """A JWKS endpoint, as an identity provider publishes one."""

    def __init__(self, public_jwk: dict) -> None:
        body = json.dumps({"keys": [public_jwk]}).encode()

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args: object) -> None:
                pass

        from common.launcher.ports import free_port

        self.server = ThreadingHTTPServer(("127.0.0.1", free_port()), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_port}/.well-known/jwks.json"

    def __enter__(self) -> _Jwks:
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.shutdown()


@pytest.fixture
def jwks() -> Iterator[tuple[rsa.RSAPrivateKey, str]]:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    public = json.loads(jwt.algorithms.RSAAlgorithm.to_jwk(key.public_key()))
    with _Jwks({**public, "kid": "k1", "use": "sig", "alg": "RS256"}) as server:
        yield key, server.url


async def test_asymmetric_tokens_from_an_identity_provider(migrated, redis, jwks) -> None:
    key, url = jwks
    tenant_id, _ = await new_tenant(migrated, "professional")
    settings = ManagementSettings(jwt_jwks_url=url, jwt_audience="authenticated")
    claims: dict[str, Any] = {"sub": "user-1", "aud": "authenticated", "app_metadata": {"tenant_id": tenant_id}}
    claims["exp"] = int(time.time()) + 60
    async with running(MANAGEMENT, settings) as api:
        good = jwt.encode(claims, key, "RS256", headers={"kid": "k1"})
        assert (await api.get("/api/v1/agents", headers={"Authorization": f"Bearer {good}"})).status_code == 200
        stranger = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        forged = jwt.encode(claims, stranger, "RS256", headers={"kid": "k1"})
        assert (await api.get("/api/v1/agents", headers={"Authorization": f"Bearer {forged}"})).status_code == 401
        wrong_audience = jwt.encode({**claims, "aud": "other"}, key, "RS256", headers={"kid": "k1"})
        response = await api.get("/api/v1/agents", headers={"Authorization": f"Bearer {wrong_audience}"})
        assert response.status_code == 401
