"""Builds the process's one Redis client: a blocking pool sized for the blocking waiters (PromptPool: a free
connection is taken without waiting or a socket poll; DirectWrites: a command is written without a task of its own;
HiredisPacking: commands packed in C; StaysClosed: nothing reconnects once the manager is closed), or a Redis
Cluster client (per-node pools) when `redis_cluster` is set. Key names keep what is used together in one slot
(QueueManager's hash tags), so the same code runs on both."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from redis.asyncio import BlockingConnectionPool, Redis
from redis.asyncio.client import Pipeline
from redis.asyncio.cluster import RedisCluster
from redis.asyncio.connection import AbstractConnection
from redis.asyncio.retry import Retry
from redis.backoff import ExponentialBackoff
from redis.connection import HiredisRespSerializer
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import RedisError, ResponseError
from redis.exceptions import TimeoutError as RedisTimeoutError

from common.settings import CommonSettings

# A blocking command never waits longer than this server-side, so the socket timeout
# (settings.redis_socket_timeout_s) always stays above it (MESSAGING.md §2).
MAX_BLOCK_S = 2.0


class DirectWrites(AbstractConnection):
    """A connection that writes a command without a task of its own.

    redis-py bounds every write by the socket timeout with `asyncio.wait_for`, which on Python 3.11 runs the
    write in a new task: a timer and two more loop turns per command, on every hop of every message. A write
    can only block while the transport holds more than its high-water mark (the kernel's socket buffer is
    full). So the bytes go to the transport at once, and the command waits only when the transport's buffer
    is past its low-water mark (it may be paused) or its connection is closing — through redis-py's own path:
    under the socket timeout, with its error handling (TimeoutError or ConnectionError, and a disconnect)."""

    async def send_packed_command(self, command: Any, check_health: bool = True) -> None:
        if check_health and self.is_connected:
            await self.check_health()  # a PING when one is due (it reconnects through the retry if need be)
            check_health = False
        if not (self.is_connected and self.socket_timeout):
            await super().send_packed_command(command, check_health)  # connects first; no timeout to bound
            return
        writer = self._writer
        assert writer is not None  # is_connected
        if isinstance(command, str):
            command = command.encode()
        writer.writelines([command] if isinstance(command, bytes) else command)
        transport = writer.transport
        if transport.is_closing() or transport.get_write_buffer_size() > transport.get_write_buffer_limits()[0]:
            await super().send_packed_command([], check_health=False)  # drains under the timeout, or raises


class HiredisPacking(AbstractConnection):
    """Packs commands in hiredis's C code, as redis-py's synchronous client does when hiredis is installed (its
    asyncio connection packs them in Python: ~15 % of a worker's instructions per message). Same bytes, and the same
    DataError for an argument that is not bytes, str, int or float."""

    _packer = HiredisRespSerializer()

    def pack_command(self, *args: Any) -> list[bytes]:
        return self._packer.pack(*args)


class RedisClosedError(RedisError):
    """The process closed this Redis client (`RedisManager.close`): no connection is opened through it again."""


class StaysClosed(AbstractConnection):
    """A connection that does not connect again once its RedisManager is closed.

    Closing the pool drops the connections, but a task still running (a reply listener serving calls until
    their deadline, a writer) would otherwise reconnect through the client's retry, on a pool nobody will close
    again: a blocked read left behind on the server, under the process's name. It fails with RedisClosedError
    instead. The flag lives on the connection class, which is made per manager (`platform_connection_class`)."""

    manager_closed = False

    async def connect_check_health(self, check_health: bool = True, retry_socket_connect: bool = True) -> None:
        if self.manager_closed and not self.is_connected:
            raise RedisClosedError("this process closed its Redis client")
        await super().connect_check_health(check_health, retry_socket_connect)


def platform_connection_class(base: type[AbstractConnection]) -> type[StaysClosed]:
    """`base` (TCP, TLS or Unix socket, as the URL says) with the platform's writes and packing, for one manager."""
    return type(f"Platform{base.__name__}", (StaysClosed, DirectWrites, HiredisPacking, base), {})


class PromptPool(BlockingConnectionPool):
    """A blocking pool whose checkout takes a free connection at once.

    redis-py's BlockingConnectionPool takes its Condition and arms its timeout for every checkout, even when a
    connection is free. Here a checkout that finds one free (or room to open one), while no other checkout is
    waiting, takes it directly; once the pool is exhausted every checkout waits in redis-py's own queue (under
    its timeout), so the waiting ones are served in order.

    A checkout does not poll the connection's socket first either. redis-py's pool does, to find a connection
    that was given back with a reply left unread or that the server closed, at the cost of a zero timeout, a
    cancelled read and one more loop turn per command (about a quarter of a command's CPU). Neither needs it
    here: redis-py closes a connection whose read or write failed or was cancelled, so none comes back with a
    reply unread, and a command sent on a connection the server closed fails before anything ran and is sent
    again on a new connection by the client's retry (`Retry` below)."""

    _waiting = 0

    async def get_connection(self, command_name: Any = None, *keys: Any, **options: Any) -> Any:
        if self._waiting or not self.can_get_connection():
            self._waiting += 1
            try:
                return await super().get_connection()
            finally:
                self._waiting -= 1
        connection = self.get_available_connection()
        try:
            await self.ensure_connection(connection)
        except BaseException:
            await self.release(connection)
            raise
        return connection

    async def ensure_connection(self, connection: AbstractConnection) -> None:
        if not connection.is_connected:  # and no socket poll (see the class's doc)
            await connection.connect()


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
        self._pool: PromptPool | None = None
        if settings.redis_cluster:
            self.client: Redis = RedisCluster.from_url(settings.redis_url, **connection)  # type: ignore[assignment]  # the same commands
            return
        self._pool = PromptPool.from_url(
            settings.redis_url,
            timeout=settings.redis_socket_timeout_s,
            retry=Retry(ExponentialBackoff(cap=1.0, base=0.05), retries=3),
            retry_on_error=[RedisConnectionError, RedisTimeoutError],
            **connection,
        )
        self._connection_class = platform_connection_class(self._pool.connection_class)
        self._pool.connection_class = self._connection_class
        self.client = Redis(connection_pool=self._pool)

    async def ping(self) -> bool:
        return bool(await self.client.ping())  # type: ignore[misc]  # redis-py types async commands as "Awaitable[T] | T"

    async def close(self) -> None:
        if self._pool is None:  # a cluster client closes its per-node connections itself
            await self.client.aclose()
            return
        self._connection_class.manager_closed = True  # before the disconnect: nothing reconnects after it
        await self.client.aclose()
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


async def execute_on_own_connection(reader: Redis, pipe: Pipeline) -> list[Any]:
    """The commands queued on `pipe`, sent in one round trip on the connection `reader` holds (`own_connection`;
    `pipe.execute()` would check out another one), raising the first error as `pipe.execute()` does. A failed
    read closes the connection (redis-py's own reads do), and the next command opens a new one."""
    if is_cluster(reader):
        return list(await pipe.execute())
    await reader.initialize()  # takes the held connection on first use
    connection = reader.connection
    assert connection is not None
    commands = pipe.command_stack
    try:
        await connection.send_packed_command(connection.pack_commands([args for args, _ in commands]))
        replies: list[Any] = []
        for args, options in commands:
            try:
                replies.append(await reader.parse_response(connection, args[0], **options))
            except ResponseError as error:  # the replies after it are still read: the connection stays in step
                replies.append(error)
    finally:
        await pipe.reset()
    for reply in replies:
        if isinstance(reply, ResponseError):
            raise reply
    return replies
