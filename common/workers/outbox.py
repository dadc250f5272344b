"""Batches how messages end (reply or callback, dead letter, XACK) into one pipeline round trip.

Handlers finish one by one; each hands its commands to the outbox and waits. While one flush is
on the wire, the next batch gathers, so a busy worker sends one pipeline for many messages
(MESSAGING.md §1) and an idle one flushes at once. Per message the order of commands is kept.
"""

from __future__ import annotations

import asyncio
from typing import Any

from redis.asyncio import Redis

from common.log import get_logger
from common.messaging.backoff import REDIS_DOWN, Backoff
from common.tasks import supervised

log = get_logger(__name__)
Command = tuple[str, tuple[Any, ...], dict[str, Any]]


class CommandBuffer:
    """Records the few write commands a message's ending needs; replayed later on a pipeline."""

    def __init__(self) -> None:
        self.commands: list[Command] = []

    def lpush(self, key: str, value: str) -> None:
        self.commands.append(("lpush", (key, value), {}))

    def expire(self, key: str, seconds: int) -> None:
        self.commands.append(("expire", (key, seconds), {}))

    def xadd(self, stream: str, fields: dict[str, str], **kwargs: Any) -> None:
        self.commands.append(("xadd", (stream, fields), kwargs))

    def hdel(self, key: str, field: str) -> None:
        self.commands.append(("hdel", (key, field), {}))

    def xack(self, stream: str, group: str, message_id: str) -> None:
        self.commands.append(("xack", (stream, group, message_id), {}))


class Outbox:
    def __init__(self, redis: Redis):
        self.redis = redis
        self._pending: list[tuple[list[Command], asyncio.Future[None]]] = []
        self._wakeup = asyncio.Event()
        self._task: asyncio.Task[None] | None = None

    def start(self) -> None:
        self._stopping = asyncio.Event()
        self._task = supervised("outbox", self._run, self._stopping)

    async def close(self) -> None:
        if self._task:
            self._stopping.set()
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)
        for _, future in self._pending:
            future.cancel()

    async def send(self, buffer: CommandBuffer) -> None:
        """Returns once the commands have been executed by Redis."""
        future = asyncio.get_running_loop().create_future()
        self._pending.append((buffer.commands, future))
        self._wakeup.set()
        await future

    async def _run(self) -> None:
        while True:
            await self._wakeup.wait()
            self._wakeup.clear()
            batch, self._pending = self._pending, []
            try:
                await self._flush(batch)
            except Exception as exc:  # never leave a sender waiting: it learns the failure, the task restarts
                for _, future in batch:
                    if not future.done():
                        future.set_exception(exc)
                raise
            except asyncio.CancelledError:
                self._pending = batch + self._pending  # cancelled at close(): close() cancels their futures
                raise

    async def _flush(self, batch: list[tuple[list[Command], asyncio.Future[None]]]) -> None:
        backoff = Backoff()
        while True:
            try:
                async with self.redis.pipeline(transaction=False) as pipe:
                    for commands, _ in batch:
                        for name, args, kwargs in commands:
                            getattr(pipe, name)(*args, **kwargs)
                    results = await pipe.execute(raise_on_error=False)
                break
            except REDIS_DOWN as exc:  # at least once: a retried batch may repeat a push
                await backoff.wait(exc, "outbox_redis_unavailable", messages=len(batch))
        for result in results:
            if isinstance(result, Exception):
                log.error("outbox_command_failed", error=str(result))
        for _, future in batch:
            if not future.done():
                future.set_result(None)
