"""One flush at a time for commands that many tasks of a process send (MESSAGING.md §1).

The sender that finds nothing on the wire sends its own command at once: a lone sender pays no task switch.
Senders that come while a flush is on the wire queue theirs, and a drain task sends everything queued in one
flush as soon as the wire is free: under load, many commands share one round trip. A sender cancelled while
its command is queued is dropped before the command goes out; every sender gets its own command's result, or
its own error.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Sequence
from typing import Generic, TypeVar

T = TypeVar("T")
R = TypeVar("R")


class Batcher(Generic[T, R]):
    """`flush(items)` sends `items` in one round trip and returns one result per item, an exception being that
    item's own failure; raising fails every item of the flush."""

    def __init__(self, flush: Callable[[list[T]], Awaitable[Sequence[R | BaseException]]], name: str):
        self._flush = flush
        self.name = name
        self._queue: list[tuple[T, asyncio.Future[R]]] = []
        self._idle = asyncio.Event()  # clear while a flush is on the wire
        self._idle.set()
        self._drainer: asyncio.Task[None] | None = None

    async def send(self, item: T, *, at_once: bool = True) -> R:
        """`item`'s result once its flush has run. `at_once=False`: always queue (to share a flush with the
        commands of others that are about to come) instead of sending at once when the wire is free."""
        if at_once and self._idle.is_set() and not self._queue:
            self._idle.clear()
            try:
                (result,) = await self._flush([item])  # a cancelled sender leaves its command sent or not
            finally:
                self._idle.set()
            if isinstance(result, BaseException):
                raise result
            return result
        future: asyncio.Future[R] = asyncio.get_running_loop().create_future()
        self._queue.append((item, future))
        if self._drainer is None or self._drainer.done():
            self._drainer = asyncio.create_task(self._drain(), name=f"batcher:{self.name}")
        return await future

    async def close(self) -> None:
        """Stop draining; senders still queued are cancelled."""
        if self._drainer is not None:
            self._drainer.cancel()
            await asyncio.gather(self._drainer, return_exceptions=True)
        for _, future in self._queue:
            future.cancel()
        self._queue = []

    async def _drain(self) -> None:
        """Runs while commands are queued; ends when none is left (the next queued command starts it again)."""
        while self._queue:
            if not self._idle.is_set():
                await self._idle.wait()
                continue
            batch = [(item, future) for item, future in self._queue if not future.done()]  # cancelled: dropped
            self._queue = []
            if not batch:
                continue
            self._idle.clear()
            try:
                results: Sequence[R | BaseException] = await self._flush([item for item, _ in batch])
            except Exception as exc:  # every sender of this flush learns the failure; the drain goes on
                results = [exc] * len(batch)
            except asyncio.CancelledError:
                for _, future in batch:
                    future.cancel()
                raise
            finally:
                self._idle.set()
            for (_, future), result in zip(batch, results, strict=True):
                if future.done():
                    continue
                if isinstance(result, BaseException):
                    future.set_exception(result)
                else:
                    future.set_result(result)
