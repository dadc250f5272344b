"""The platform's Redis connections (common.messaging.redis_manager) against a real server: a command is written
without a task of its own, a command bigger than the socket's buffers still arrives whole, and a connection the
server closed is replaced on the next command instead of failing it or hanging."""

from __future__ import annotations

import asyncio
import secrets
from collections.abc import Coroutine, Iterator
from contextlib import contextmanager
from typing import Any

from redis.asyncio import Redis

from common.messaging import QueueManager


@contextmanager
def tasks_created() -> Iterator[list[str]]:
    """The names of the coroutines the running loop makes tasks of meanwhile."""
    loop = asyncio.get_running_loop()
    created: list[str] = []
    previous = loop.get_task_factory()

    def factory(loop: asyncio.AbstractEventLoop, coro: Coroutine[Any, Any, Any], **kwargs: Any) -> asyncio.Task[Any]:
        created.append(coro.__qualname__)
        return asyncio.Task(coro, loop=loop, **kwargs)

    loop.set_task_factory(factory)
    try:
        yield created
    finally:
        loop.set_task_factory(previous)


async def test_a_command_is_written_without_a_task_of_its_own(redis: Redis, queues: QueueManager) -> None:
    key = f"{queues.prefix}:plain"
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


async def test_a_command_bigger_than_the_socket_buffers_arrives_whole(redis: Redis, queues: QueueManager) -> None:
    key = f"{queues.prefix}:big"
    value = secrets.token_hex(6 * 1024 * 1024)  # 12 MB: the transport must hold most of it and drain it
    pushes = [secrets.token_hex(1024 * 1024) for _ in range(3)]
    await asyncio.gather(redis.set(key, value), redis.rpush(f"{key}:list", *pushes))
    assert await redis.get(key) == value
    assert await redis.lrange(f"{key}:list", 0, -1) == pushes


async def test_a_connection_the_server_closed_is_replaced_on_the_next_command(
    redis: Redis, queues: QueueManager
) -> None:
    key = f"{queues.prefix}:killed"
    own = redis.client()  # one connection held, as the reply listener and the worker's readers hold theirs
    try:
        killed = await own.client_id()
        assert await redis.client_kill_filter(_id=killed) == 1
        async with asyncio.timeout(10):  # never a hang on the dead connection
            await own.set(key, "after")
            assert await own.client_id() != killed
        assert await redis.get(key) == "after"
    finally:
        await own.aclose()
