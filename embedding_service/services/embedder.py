"""`embedding.generate` and `/api/v1/embeddings`: limits, the Redis cache, empty strings, then the batcher."""

from __future__ import annotations

import hashlib
import json
import time
import uuid

from redis.asyncio import Redis

from common.clients.usage_client import UsageClient
from common.contracts.embedding import EmbeddingUsage, EmbedResult
from common.contracts.management import UsageKind, UsageRecord
from common.errors import DependencyError, ValidationError
from common.messaging.queue_manager import QueueManager
from common.models.actions import utc_now
from common.models.tiers import Tier
from common.policy import check_embedding_model_allowed
from embedding_service.services.batcher import Batcher
from embedding_service.services.providers import (
    LOCAL_MODEL,
    Embedder,
    LocalMiniLM,
    OpenAIEmbedder,
)
from embedding_service.settings import EmbeddingSettings

MODEL_ALIASES = {"local": LOCAL_MODEL, "all-minilm-l6-v2": LOCAL_MODEL, "openai": "text-embedding-3-small"}


class EmbeddingService:
    def __init__(self, redis: Redis, queues: QueueManager, settings: EmbeddingSettings):
        self.usage = UsageClient(redis, settings, "embedding")
        self.redis = redis
        self.queues = queues
        self.settings = settings
        self._batchers: dict[str, Batcher] = {}

    def _batcher(self, model: str) -> Batcher:
        if model not in self._batchers:
            embedder: Embedder
            parallel = 4  # a remote provider's calls in flight at once
            if model == LOCAL_MODEL:
                embedder = LocalMiniLM(
                    self.settings.local_model_threads,
                    self.settings.max_batch_tokens,
                    self.settings.bulk_in_background,
                )
                parallel = self.settings.local_model_threads  # one model call per core
            elif model.startswith("text-embedding-"):
                if not self.settings.openai_api_key:
                    raise ValidationError(
                        "the openai embedding provider is not configured (NOOBLE4_OPENAI_API_KEY)",
                        code="provider_not_configured",
                    )
                embedder = OpenAIEmbedder(self.settings.openai_api_key, self.settings.openai_base_url, model)
            else:
                raise ValidationError(
                    f"unknown embedding model {model!r}; use {LOCAL_MODEL!r} or text-embedding-3-small",
                    code="unknown_model",
                )
            self._batchers[model] = Batcher(embedder, self.settings.batch_size, self.settings.batch_wait_ms, parallel)
        return self._batchers[model]

    def warm_up(self) -> None:
        """Load the default model now rather than on the first request."""
        self._batcher(self.resolve_model(None))

    def resolve_model(self, model: str | None) -> str:
        name = model or self.settings.default_model
        return MODEL_ALIASES.get(name.lower(), name)

    def _check_limits(self, texts: list[str]) -> None:
        if len(texts) > self.settings.max_texts_per_call:
            raise ValidationError(
                f"{len(texts)} texts in one call; the limit is {self.settings.max_texts_per_call}",
                code="too_many_texts",
            )
        too_long = [i for i, text in enumerate(texts) if len(text) > self.settings.max_chars_per_text]
        if too_long:
            raise ValidationError(
                f"texts longer than {self.settings.max_chars_per_text} characters at positions {too_long[:10]}",
                code="text_too_long",
                details={"positions": too_long[:100]},
            )

    def _cache_key(self, tenant_id: str, model: str, text: str) -> str:
        """Per tenant: a shared cache would let one tenant learn by timing what another embedded."""
        return self.queues.embedding_cache_key(tenant_id, model, hashlib.sha256(text.encode()).hexdigest())

    async def generate(
        self,
        tenant_id: str,
        tier: Tier,
        texts: list[str],
        model: str | None = None,
        priority: str = "interactive",
        *,
        event_id: str | None = None,
    ) -> EmbedResult:
        """The texts' vectors; the request is recorded in the usage ledger (once per `event_id`, e.g. the
        action's id, so a redelivered request is not counted twice)."""
        started = time.perf_counter()
        result = await self._generate(tenant_id, tier, texts, model, priority)
        record = UsageRecord(
            event_id=f"embedding:{event_id or uuid.uuid4().hex}",
            kind=UsageKind.EMBEDDING,
            occurred_at=utc_now(),
            provider="local" if result.model == LOCAL_MODEL else "openai",
            model=result.model,
            prompt_tokens=result.usage.prompt_tokens,
            latency_ms=round((time.perf_counter() - started) * 1000, 2),
        )
        await self.usage.record(record, tenant_id=tenant_id, tenant_tier=tier)
        return result

    async def _generate(
        self, tenant_id: str, tier: Tier, texts: list[str], model: str | None, priority: str
    ) -> EmbedResult:
        self._check_limits(texts)
        name = self.resolve_model(model)
        check_embedding_model_allowed(tier, name)
        batcher = self._batcher(name)
        dimensions = batcher.embedder.dimensions
        vectors: list[list[float] | None] = [None] * len(texts)
        for i, text in enumerate(texts):
            if not text.strip():
                vectors[i] = [0.0] * dimensions  # nothing to embed: the zero vector, similar to nothing
        wanted = [i for i, v in enumerate(vectors) if v is None]
        cached = 0
        if wanted and self.settings.cache_ttl_s:
            hits = await self.redis.mget([self._cache_key(tenant_id, name, texts[i]) for i in wanted])
            for i, hit in zip(wanted, hits, strict=True):
                if hit is not None:
                    vectors[i] = json.loads(hit)
                    cached += 1
        missing = [i for i, v in enumerate(vectors) if v is None]
        if missing:
            unique = list(dict.fromkeys(texts[i] for i in missing))
            try:
                computed = dict(zip(unique, await batcher.embed(unique, bulk=priority == "bulk"), strict=True))
            except ValidationError:
                raise
            except Exception as exc:
                raise DependencyError(f"embedding model {name} failed: {exc}"[:500], code="embedding_failed") from exc
            for i in missing:
                vectors[i] = computed[texts[i]]
            if self.settings.cache_ttl_s:
                async with self.redis.pipeline(transaction=False) as pipe:
                    for text, vector in computed.items():
                        pipe.set(
                            self._cache_key(tenant_id, name, text), json.dumps(vector), ex=self.settings.cache_ttl_s
                        )
                    await pipe.execute()
        tokens = batcher.embedder.count_tokens(texts)
        return EmbedResult(
            embeddings=[v for v in vectors if v is not None],
            model=name,
            dimensions=dimensions,
            usage=EmbeddingUsage(prompt_tokens=tokens, total_tokens=tokens),
            cached=cached,
        )

    async def close(self) -> None:
        for batcher in self._batchers.values():
            await batcher.close()
            if isinstance(batcher.embedder, LocalMiniLM):
                batcher.embedder.close()
