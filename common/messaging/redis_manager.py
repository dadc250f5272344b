"""Builds the process's one Redis client: a blocking pool sized for the blocking waiters, or a Redis Cluster
client (per-node pools) when `redis_cluster` is set. Key names keep what is used together in one slot
(QueueManager's hash tags), so the same code runs on both."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from redis.asyncio import BlockingConnectionPool, Redis
from redis.asyncio.cluster import RedisCluster
from redis.asyncio.retry import Retry
from redis.backoff import ExponentialBackoff
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError

from common.settings import CommonSettings

# A blocking command never waits longer than this server-side, so the socket timeout
# (settings.redis_socket_timeout_s) always stays above it (MESSAGING.md §2).
MAX_BLOCK_S = 2.0


class RedisManager:
    def __init__(self, settings: CommonSettings):
        if settings.redis_socket_timeout_s <= MAX_BLOCK_S:
            raise ValueError("redis_socket_timeout_s must exceed the longest blocking read (2 s)")
        connection = {  # the same for a single Redis and for each node of a cluster
            "max_connections": settings.redis_max_connections,
            "socket_timeout": settings.redis_socket_timeout_s,
            "socket_connect_timeout": 5.0,
            "socket_keepalive": True,
            "health_check_interval": 30,
            "decode_responses": True,
            "client_name": settings.service_name,
        }
        self._pool: BlockingConnectionPool | None = None
        if settings.redis_cluster:
            self.client: Redis = RedisCluster.from_url(settings.redis_url, **connection)  # type: ignore[assignment]  # the same commands
            return
        self._pool = BlockingConnectionPool.from_url(
            settings.redis_url,
            timeout=settings.redis_socket_timeout_s,
            retry=Retry(ExponentialBackoff(cap=1.0, base=0.05), retries=3),
            retry_on_error=[RedisConnectionError, RedisTimeoutError],
            **connection,
        )
        self.client = Redis(connection_pool=self._pool)

    async def ping(self) -> bool:
        return bool(await self.client.ping())  # type: ignore[misc]  # redis-py types async commands as "Awaitable[T] | T"

    async def close(self) -> None:
        await self.client.aclose()
        if self._pool is not None:
            await self._pool.disconnect()


def is_cluster(redis: Redis) -> bool:
    return isinstance(redis, RedisCluster)


@asynccontextmanager
async def own_connection(redis: Redis) -> AsyncIterator[Redis]:
    """A client holding one pooled connection for a loop of blocking reads (no pool checkout per read), given
    back at the end; a cluster client's per-node pools serve as they are."""
    if is_cluster(redis):
        yield redis
        return
    reader = redis.client()
    try:
        yield reader
    finally:
        await reader.aclose()
