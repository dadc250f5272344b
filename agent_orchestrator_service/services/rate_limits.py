"""Per-tenant request limits at the edge (DESIGN.md §10), counted atomically in Redis by `limits`."""

from __future__ import annotations

import time

from limits import RateLimitItem, RateLimitItemPerDay, RateLimitItemPerMinute
from limits.aio.storage import RedisStorage
from limits.aio.strategies import SlidingWindowCounterRateLimiter
from redis.asyncio import Redis

from common.messaging.queue_manager import QueueManager
from common.models.tiers import Tier
from common.tier_limits import limits_for


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
        self.storage = RedisStorage(
            limits_storage_uri(redis_url),
            implementation="redispy",
            key_prefix=queues.rate_limit_prefix("orchestrator"),
            connection_pool=redis.connection_pool,  # the service's pool, not a second one
        )
        self.limiter = SlidingWindowCounterRateLimiter(self.storage)

    async def hit(self, tenant_id: str, tier: Tier | str) -> float | None:
        """Counts one request; None when allowed, else the seconds to wait before retrying."""
        for window in tier_windows(tier):
            if not await self.limiter.hit(window, "tenant", tenant_id):
                stats = await self.limiter.get_window_stats(window, "tenant", tenant_id)
                return max(1.0, round(stats.reset_time - time.time(), 1))
        return None
