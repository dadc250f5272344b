"""One tenant policy, enforced at every edge that consumes it (DESIGN.md §10): the tier's allowed model
providers, and its request limits per minute and per day — counted atomically in Redis by `limits`, one
budget per tenant shared by everything that runs a model: chat turns, generate, search and embeddings.
(Uploads have their own quota, documents per day, counted in the same transaction as the insert.)"""

from __future__ import annotations

import time
from typing import Annotated

from fastapi import Depends, Request
from limits import RateLimitItem, RateLimitItemPerDay, RateLimitItemPerMinute
from limits.aio.storage import RedisClusterStorage, RedisStorage
from limits.aio.strategies import SlidingWindowCounterRateLimiter
from redis.asyncio import Redis

from common.auth import CurrentTenant, TenantIdentity
from common.embedding_models import EMBEDDING_PROVIDERS
from common.errors import QuotaExceededError, RateLimitedError
from common.messaging.queue_manager import QueueManager
from common.messaging.redis_manager import is_cluster
from common.models.tiers import Tier
from common.tier_limits import limits_for


def check_model_allowed(tier: Tier | str, provider: str) -> None:
    """A chat or answer model's provider must be allowed for the tier (403 `model_not_allowed`)."""
    allowed = limits_for(tier).allowed_model_providers
    if provider not in allowed:
        raise QuotaExceededError(
            f"the {Tier(tier).value} tier cannot use {provider!r} models",
            code="model_not_allowed",
            details={"allowed": sorted(allowed)},
        )


def check_embedding_model_allowed(tier: Tier | str, model: str) -> None:
    """A known embedding model's provider must be allowed for the tier (unknown models fail elsewhere)."""
    if provider := EMBEDDING_PROVIDERS.get(model):
        check_model_allowed(tier, provider)


def limits_storage_uri(redis_url: str) -> str:
    """`redis://…` → `async+redis://…` (and rediss, unix) as the `limits` library names them."""
    scheme, rest = redis_url.split("://", 1)
    return f"async+{'redis+unix' if scheme == 'unix' else scheme}://{rest}"


def tier_windows(tier: Tier | str) -> list[RateLimitItem]:
    limits = limits_for(tier)
    windows: list[RateLimitItem] = []
    if limits.requests_per_minute is not None:
        windows.append(RateLimitItemPerMinute(limits.requests_per_minute))
    if limits.requests_per_day is not None:
        windows.append(RateLimitItemPerDay(limits.requests_per_day))
    return windows


class TenantRateLimiter:
    def __init__(self, redis: Redis, redis_url: str, queues: QueueManager):
        prefix = queues.rate_limit_prefix("tenants")
        self.storage: RedisStorage | RedisClusterStorage
        if is_cluster(redis):
            uri = limits_storage_uri(redis_url).replace("async+redis://", "async+redis+cluster://", 1)
            self.storage = RedisClusterStorage(uri, implementation="redispy", key_prefix=prefix)
        else:
            self.storage = RedisStorage(
                limits_storage_uri(redis_url),
                implementation="redispy",
                key_prefix=prefix,
                connection_pool=redis.connection_pool,  # type: ignore[arg-type]  # the service's pool, not a second
            )
        self.limiter = SlidingWindowCounterRateLimiter(self.storage)

    async def hit(self, tenant_id: str, tier: Tier | str) -> float | None:
        """Counts one request; None when allowed, else the seconds to wait before retrying."""
        for window in tier_windows(tier):
            if not await self.limiter.hit(window, "tenant", tenant_id):
                stats = await self.limiter.get_window_stats(window, "tenant", tenant_id)
                return max(1.0, round(stats.reset_time - time.time(), 1))
        return None

    async def usage(self, tenant_id: str, tier: Tier | str) -> list[dict[str, float | int | str]]:
        """Per window of the tier: its limit, what is left and when it resets (counted without a hit)."""
        windows = []
        for window in tier_windows(tier):
            stats = await self.limiter.get_window_stats(window, "tenant", tenant_id)
            windows.append(
                {
                    "window": "minute" if isinstance(window, RateLimitItemPerMinute) else "day",
                    "limit": window.amount,
                    "used": window.amount - stats.remaining,
                    "resets_in_s": max(0.0, round(stats.reset_time - time.time(), 1)),
                }
            )
        return windows

    async def enforce(self, tenant_id: str, tier: Tier | str) -> None:
        """Counts one request or raises 429 `rate_limited` (with `retry_after` seconds)."""
        retry_after = await self.hit(tenant_id, tier)
        if retry_after is not None:
            raise RateLimitedError(
                f"the {Tier(tier).value} tier's request limit is reached",
                code="rate_limited",
                details={"retry_after": retry_after},
            )


def tenant_rate_limiter(request: Request) -> TenantRateLimiter:
    """One limiter per app, on the service's Redis pool."""
    state = request.app.state
    if getattr(state, "rate_limiter", None) is None:
        deps = state.deps
        state.rate_limiter = TenantRateLimiter(deps.redis, deps.settings.redis_url, deps.queues)
    limiter: TenantRateLimiter = state.rate_limiter
    return limiter


async def rate_limited_tenant(
    tenant: CurrentTenant, limiter: Annotated[TenantRateLimiter, Depends(tenant_rate_limiter)]
) -> TenantIdentity:
    """FastAPI dependency: the calling tenant, after counting this request against its tier's limits."""
    await limiter.enforce(tenant.tenant_id, tenant.tier)
    return tenant


RateLimitedTenant = Annotated[TenantIdentity, Depends(rate_limited_tenant)]
