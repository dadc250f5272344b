from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from typing import Any

from redis.asyncio import Redis

from common.errors import ForbiddenError, ValidationError
from common.handlers.base_handler import BaseHandler
from common.messaging.queue_manager import QueueManager
from common.models.actions import DomainAction
from common.models.context import ExecutionContext


class BaseContextHandler(BaseHandler):
    """Resolves an ExecutionContext for an action and caches lookups in Redis (JSON, with a TTL)."""

    def __init__(self, redis: Redis, queues: QueueManager, domain: str, cache_ttl_s: int = 300):
        super().__init__()
        self.redis = redis
        self.queues = queues
        self.domain = domain
        self.cache_ttl_s = cache_ttl_s

    async def resolve_context(self, action: DomainAction) -> ExecutionContext:
        await self._check_initialized()
        raw = action.metadata.get("context")
        if raw is None:
            raise ValidationError("action carries no execution context", code="missing_context")
        context = ExecutionContext.model_validate(raw)
        if context.tenant_id != action.tenant_id:
            raise ForbiddenError("execution context belongs to another tenant", code="tenant_mismatch")
        await self._validate_context(context)
        return context

    async def _validate_context(self, context: ExecutionContext) -> None:
        """Override for service-specific checks."""

    def cache_key(self, *parts: str) -> str:
        return self.queues.cache_key(self.domain, *parts)

    async def get_from_cache(self, *parts: str) -> Any | None:
        value = await self.redis.get(self.cache_key(*parts))
        return None if value is None else json.loads(value)

    async def set_in_cache(self, value: Any, *parts: str, ttl_s: int | None = None) -> None:
        await self.redis.set(self.cache_key(*parts), json.dumps(value), ex=ttl_s or self.cache_ttl_s)

    async def invalidate(self, *parts: str) -> None:
        await self.redis.delete(self.cache_key(*parts))

    async def cached(self, loader: Callable[[], Awaitable[Any]], *parts: str, ttl_s: int | None = None) -> Any:
        """Read-through cache: the cached value, or `loader()`'s result stored for next time."""
        hit = await self.get_from_cache(*parts)
        if hit is not None:
            return hit
        value = await loader()
        await self.set_in_cache(value, *parts, ttl_s=ttl_s)
        return value
