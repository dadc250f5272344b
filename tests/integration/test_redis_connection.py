"""The platform's Redis connections (common.messaging.redis_manager) against a real server, on the standard event
loop and on uvloop (what the services run): a command is written without a task of its own, a command bigger
than the socket's buffers still arrives whole, a connection the server closed is replaced on the next command
instead of failing it or hanging, commands beyond the pool's size wait for a connection instead of failing, and
hostile values travel byte for byte (commands are packed by hiredis: the same bytes as redis-py's own packer)."""

from __future__ import annotations

import asyncio
import secrets
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from contextlib import asynccontextmanager, contextmanager
from typing import Any

import pytest
import uvloop
from redis.asyncio import Redis
from redis.asyncio.connection import Connection
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import DataError, ResponseError

from common.messaging import QueueManager, RedisManager
from common.messaging.redis_manager import execute_on_own_connection, own_connection, platform_connection_class
from common.settings import CommonSettings
from tests.support.helpers import delete_prefixed, eventually

Check = Callable[[Redis, str], Awaitable[None]]
LOOPS: dict[str, Callable[[Any], Any]] = {"asyncio": asyncio.run, "uvloop": uvloop.run}


@pytest.fixture(params=sorted(LOOPS))
def on_each_loop(request: pytest.FixtureRequest, settings: CommonSettings) -> Callable[[Check], None]:
    """Runs a check on a fresh event loop of the parameter's kind, with the platform's client (a pool of 4
    connections) and a key prefix."""
    settings = settings.model_copy(update={"redis_max_connections": 4})

    async def run(check: Check) -> None:
        manager = RedisManager(settings)
        prefix = QueueManager(settings.environment).prefix
        try:
            await check(manager.client, prefix)
        finally:
            await delete_prefixed(manager.client, prefix)
            await manager.close()

    return lambda check: LOOPS[request.param](run(check))


@contextmanager
def tasks_created() -> Iterator[list[str]]:
    """The names of the coroutines the running loop makes tasks of meanwhile."""
    loop = asyncio.get_running_loop()
    created: list[str] = []
    previous = loop.get_task_factory()

    def factory(loop: asyncio.AbstractEventLoop, coro: Any, **kwargs: Any) -> asyncio.Task[Any]:
        created.append(coro.__qualname__)
        return asyncio.Task(coro, loop=loop, **kwargs)

    loop.set_task_factory(factory)
    try:
        yield created
    finally:
        loop.set_task_factory(previous)


@asynccontextmanager
async def outside_pool(settings: CommonSettings, *, decode: bool = True) -> AsyncIterator[Redis]:
    """A client of its own, outside the pool under test: to watch, kill and feed that pool's connections."""
    side = Redis.from_url(settings.redis_url, decode_responses=decode)
    try:
        yield side
    finally:
        await side.aclose()


async def _blocked_clients(side: Redis) -> int:
    return int((await side.info("clients"))["blocked_clients"])


async def _wait_blocked_clients(side: Redis, count: int, what: str) -> None:
    """Until Redis counts `count` blocked clients (a cancelled read's connection is closed asynchronously: until
    Redis has seen it close, a push could still be handed to it)."""

    async def reached() -> bool:
        return await _blocked_clients(side) == count

    await eventually(reached, what=what)


def test_a_command_is_written_without_a_task_of_its_own(on_each_loop: Callable[[Check], None]) -> None:
    async def check(redis: Redis, prefix: str) -> None:
        key = f"{prefix}:plain"
        await redis.set(key, "warm")  # the pool holds a connected connection from here on
        with tasks_created() as created:
            for n in range(20):
                await redis.set(key, str(n))
                async with redis.pipeline(transaction=False) as pipe:
                    pipe.incr(f"{key}:n").expire(f"{key}:n", 60)
                    await pipe.execute()
        assert created == []
        assert await redis.get(key) == "19"
        assert await redis.get(f"{key}:n") == "20"

    on_each_loop(check)


def test_a_command_bigger_than_the_socket_buffers_arrives_whole(on_each_loop: Callable[[Check], None]) -> None:
    async def check(redis: Redis, prefix: str) -> None:
        key = f"{prefix}:big"
        value = secrets.token_hex(6 * 1024 * 1024)  # 12 MB: the transport must hold most of it and drain it
        pushes = [secrets.token_hex(1024 * 1024) for _ in range(3)]
        await asyncio.gather(redis.set(key, value), redis.rpush(f"{key}:list", *pushes))
        assert await redis.get(key) == value
        assert await redis.lrange(f"{key}:list", 0, -1) == pushes

    on_each_loop(check)


def test_a_connection_the_server_closed_is_replaced_on_the_next_command(
    on_each_loop: Callable[[Check], None],
) -> None:
    async def check(redis: Redis, prefix: str) -> None:
        own = redis.client()  # one connection held, as the reply listener and the worker's readers hold theirs
        try:
            killed = await own.client_id()
            assert await redis.client_kill_filter(_id=killed) == 1
            async with asyncio.timeout(10):  # never a hang on the dead connection
                await own.set(f"{prefix}:killed", "after")
                assert await own.client_id() != killed
            assert await redis.get(f"{prefix}:killed") == "after"
        finally:
            await own.aclose()

    on_each_loop(check)


def test_commands_beyond_the_pool_wait_for_a_connection_and_all_complete(
    on_each_loop: Callable[[Check], None], settings: CommonSettings
) -> None:
    async def check(redis: Redis, prefix: str) -> None:
        async with outside_pool(settings) as side:
            before = await _blocked_clients(side)
            lists = [f"{prefix}:list:{n}" for n in range(4)]
            pops = [asyncio.create_task(redis.blpop([key], timeout=10)) for key in lists]  # the pool's 4 connections
            writes = [asyncio.create_task(redis.set(f"{prefix}:k{n}", str(n))) for n in range(40)]

            async def all_blocked() -> bool:
                return await _blocked_clients(side) >= before + 4

            await eventually(all_blocked, what="the four pops blocked in Redis")
            async with asyncio.timeout(10):
                assert not any(write.done() for write in writes)  # waiting for a connection, none failed
                for key in lists:
                    await side.rpush(key, "go")
                await asyncio.gather(*writes)
                assert [await pop for pop in pops] == [(key, "go") for key in lists]
            assert await side.mget([f"{prefix}:k{n}" for n in range(40)]) == [str(n) for n in range(40)]

    on_each_loop(check)


HOSTILE_VALUES: list[Any] = [
    "",
    "nul\x00inside",
    "é€😀 \u202e mixed scripts",
    "\r\n*3\r\n$3\r\nDEL\r\n",  # protocol framing inside a value
    b"\x00\xff\xfe raw bytes",
    10**30,
    -(2**63),
    1e300,
    -0.1,
    float("inf"),
    "x" * 70_000,  # past redis-py's chunking cutoff
]


def as_stored(value: Any) -> bytes:
    """What Redis holds for `value`: its UTF-8, its bytes, or its number's text (repr for a float)."""
    if isinstance(value, bytes):
        return value
    return (repr(value) if isinstance(value, float) else str(value)).encode()


def test_commands_pack_to_the_same_bytes_as_redis_py_and_reject_the_same_arguments() -> None:
    ours, theirs = platform_connection_class(Connection)(), Connection()
    for value in HOSTILE_VALUES:
        command = ("XADD", "stream", "MAXLEN", "~", 1000, "*", "action", value)
        assert b"".join(ours.pack_command(*command)) == b"".join(theirs.pack_command(*command))
    for bad in (None, True, [1], {"a": 1}):
        for connection in (ours, theirs):
            with pytest.raises(DataError):
                connection.pack_command("SET", "k", bad)


def test_hostile_values_travel_byte_for_byte(on_each_loop: Callable[[Check], None], settings: CommonSettings) -> None:
    async def check(redis: Redis, prefix: str) -> None:
        async with outside_pool(settings, decode=False) as raw:  # reads bytes back, undecoded
            for n, value in enumerate(HOSTILE_VALUES):
                await redis.set(f"{prefix}:v{n}", value)
                assert await raw.get(f"{prefix}:v{n}") == as_stored(value)
            with pytest.raises(UnicodeEncodeError):
                await redis.set(f"{prefix}:surrogate", "lone \udc80 surrogate")
            assert await redis.set(f"{prefix}:after", "still usable")

    on_each_loop(check)


def test_commands_pipelined_on_a_held_connection_use_it_alone_and_keep_it_in_step(
    on_each_loop: Callable[[Check], None], settings: CommonSettings
) -> None:
    """`execute_on_own_connection`: the queued commands go out on the connection a reader holds (no second one
    from the pool), an error in one still reads the replies after it, and a read cut off by cancellation or a
    killed connection leaves nothing behind for the next command to misread."""

    async def check(redis: Redis, prefix: str) -> None:
        key, text = f"{prefix}:list", f"{prefix}:text"
        async with outside_pool(settings) as side:
            await redis.set(text, "not a list")
            async with own_connection(redis) as reader:
                held = await reader.client_id()
                await side.rpush(key, "a", "b", "c")
                pipe = reader.pipeline(transaction=False)
                pipe.brpop([key], timeout=1).rpop(key, 10).client_id()
                assert await execute_on_own_connection(reader, pipe) == [(key, "c"), ["b", "a"], held]

                pipe = reader.pipeline(transaction=False)
                pipe.lpush(key, "kept").rpop(text).rpop(key)
                with pytest.raises(ResponseError, match="WRONGTYPE"):
                    await execute_on_own_connection(reader, pipe)
                assert await reader.client_id() == held  # every reply read: the next command gets its own
                assert await side.llen(key) == 0  # the commands after the error ran

                blocked_before = await _blocked_clients(side)
                pipe = reader.pipeline(transaction=False)
                pipe.brpop([key], timeout=2).rpop(key, 10)
                waiting = asyncio.create_task(execute_on_own_connection(reader, pipe))
                await _wait_blocked_clients(side, blocked_before + 1, "the pipelined read waiting")
                waiting.cancel()
                await asyncio.gather(waiting, return_exceptions=True)
                await _wait_blocked_clients(side, blocked_before, "the cancelled read's connection closed")
                await side.rpush(key, "after the cancel")
                async with asyncio.timeout(10):
                    assert await reader.rpop(key) == "after the cancel"  # the cancelled read took nothing

                held = await reader.client_id()
                assert await side.client_kill_filter(_id=held) == 1
                pipe = reader.pipeline(transaction=False)
                pipe.rpop(key).client_id()
                with pytest.raises(RedisConnectionError):
                    await execute_on_own_connection(reader, pipe)
                async with asyncio.timeout(10):
                    assert await reader.client_id() != held  # replaced on the next command

    on_each_loop(check)


def test_pooled_connections_the_server_closed_serve_the_next_commands_exactly_once(
    on_each_loop: Callable[[Check], None], settings: CommonSettings
) -> None:
    """A checkout takes a free connection without polling its socket: a command on a connection the server
    closed fails before anything ran and is sent again on a new one (each INCR counts once)."""

    async def check(redis: Redis, prefix: str) -> None:
        async with outside_pool(settings) as side:
            counter = f"{prefix}:counter"
            ids = await asyncio.gather(*(redis.client_id() for _ in range(4)))  # the pool's 4 connections, idle now
            for connection_id in set(ids):
                assert await side.client_kill_filter(_id=connection_id) == 1
            async with asyncio.timeout(10):
                await asyncio.gather(*(redis.incr(counter) for _ in range(8)))
                async with redis.pipeline(transaction=False) as pipe:
                    pipe.incr(counter).incr(counter)
                    assert await pipe.execute() == [9, 10]
            assert await side.get(counter) == "10"
            assert not set(ids) & set(await asyncio.gather(*(redis.client_id() for _ in range(4))))

    on_each_loop(check)


def test_a_pooled_command_cancelled_while_waiting_leaves_no_reply_for_the_next(
    on_each_loop: Callable[[Check], None], settings: CommonSettings
) -> None:
    """A cancelled read closes its connection, so the pool never hands out one with a reply still to come."""

    async def check(redis: Redis, prefix: str) -> None:
        async with outside_pool(settings) as side:
            key = f"{prefix}:list"
            for n in range(3):
                blocked_before = await _blocked_clients(side)
                waiting = asyncio.create_task(redis.blpop([key], timeout=5))
                await _wait_blocked_clients(side, blocked_before + 1, "the pooled BLPOP waiting")
                waiting.cancel()
                await asyncio.gather(waiting, return_exceptions=True)
                await _wait_blocked_clients(side, blocked_before, "the cancelled BLPOP's connection closed")
                await side.rpush(key, f"value {n}")
                async with asyncio.timeout(10):
                    replies = await asyncio.gather(*(redis.echo(f"echo {m}") for m in range(4)))
                assert replies == [f"echo {m}" for m in range(4)]
                assert await redis.lpop(key) == f"value {n}"  # the cancelled BLPOP took nothing

    on_each_loop(check)
