"""Objects a process keeps one of per event loop and Redis client (its reply listener, its action writer)."""

from __future__ import annotations

import asyncio
import weakref
from collections.abc import Callable, Hashable
from typing import Any, Generic, TypeVar

from redis.asyncio import Redis

T = TypeVar("T")


class LoopLocal(Generic[T]):
    def __init__(self) -> None:
        self._by_loop: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, dict[Any, tuple[Redis, T]]] = (
            weakref.WeakKeyDictionary()
        )

    def get(self, redis: Redis, key: Hashable, make: Callable[[], T]) -> T:
        """This event loop's object for `redis` and `key`, made by `make()` the first time."""
        here = self._by_loop.setdefault(asyncio.get_running_loop(), {})
        known = here.get((id(redis), key))
        if known is None or known[0] is not redis:  # an id can be reused by a later client
            known = here[(id(redis), key)] = (redis, make())
        return known[1]
