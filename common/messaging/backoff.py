"""What "Redis is unreachable" looks like, and how long to wait before trying again."""

import asyncio
from typing import Any

from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError

from common.log import get_logger

log = get_logger(__name__)

REDIS_DOWN = (RedisConnectionError, RedisTimeoutError, ConnectionError, OSError)


class Backoff:
    """Capped exponential backoff: 50 ms, doubling, at most 2 s; `reset()` after a success."""

    def __init__(self, first_s: float = 0.05, cap_s: float = 2.0):
        self.first_s = first_s
        self.cap_s = cap_s
        self._delay = first_s

    def next_delay(self) -> float:
        delay = self._delay
        self._delay = min(delay * 2, self.cap_s)
        return delay

    def reset(self) -> None:
        self._delay = self.first_s

    async def wait(self, exc: BaseException, event: str = "redis_unavailable", **fields: Any) -> None:
        """Log that Redis failed and sleep the next delay."""
        delay = self.next_delay()
        log.warning(event, error=str(exc), retry_in_s=delay, **fields)
        await asyncio.sleep(delay)
