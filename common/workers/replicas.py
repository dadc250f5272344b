"""Replicas that own a callback list announce themselves; when one dies, a survivor adopts its list.

Callbacks of work started by a replica go to that replica's own list (`callbacks:{instance}`). If it dies
(no heartbeat for `heartbeat_ttl_s`), one live replica of the same service takes a short lock and moves
the dead replica's parked and queued callbacks onto its own list, in order, and keeps doing so while
callbacks still arrive (the work it started goes on elsewhere), for `adopt_window_s`; then it deletes
the dead replica's lists. Callback handlers are idempotent, so a callback parked mid-handling by the
dead replica may safely be handled again.
"""

from __future__ import annotations

import asyncio
import time

from redis.asyncio import Redis

from common.log import get_logger
from common.messaging.backoff import REDIS_DOWN
from common.messaging.queue_manager import QueueManager
from common.tasks import sleep_unless, supervised

log = get_logger(__name__)


class CallbackAdopter:
    def __init__(
        self,
        redis: Redis,
        queues: QueueManager,
        origin: str,
        instance_id: str,
        *,
        interval_s: float = 1.0,
        heartbeat_ttl_s: float = 3.0,
        adopt_window_s: float = 300.0,
    ):
        self.redis = redis
        self.queues = queues
        self.origin = origin
        self.instance_id = instance_id
        self.own_queue = queues.callback_queue(origin, instance_id)
        self.interval_s = interval_s
        self.heartbeat_ttl_ms = int(heartbeat_ttl_s * 1000)
        self.adopt_window_ms = int(adopt_window_s * 1000)
        self.members = queues.state_key(origin, "replicas")
        self.dead_since = queues.state_key(origin, "replicas", "dead_since")
        self._stopping = asyncio.Event()

    def _heartbeat(self, instance_id: str) -> str:
        return self.queues.state_key(self.origin, "replica", instance_id)

    def start(self) -> asyncio.Task[None]:
        return supervised(f"replicas:{self.origin}", self.run, self._stopping)

    def stop(self) -> None:
        self._stopping.set()

    async def run(self) -> None:
        """Beat and adopt every `interval_s` until `stop()`; run it under `common.tasks.supervised`."""
        while not self._stopping.is_set():
            try:
                await self.beat()
                await self.adopt_orphans()
            except REDIS_DOWN as exc:
                log.warning("replica_registry_redis_unavailable", error=str(exc))
            await sleep_unless(self._stopping, self.interval_s)
        await self.redis.delete(self._heartbeat(self.instance_id))  # a clean stop: adopt what is left at once

    async def beat(self) -> None:
        async with self.redis.pipeline(transaction=False) as pipe:
            pipe.set(self._heartbeat(self.instance_id), 1, px=self.heartbeat_ttl_ms)
            pipe.sadd(self.members, self.instance_id)
            pipe.hdel(self.dead_since, self.instance_id)  # a replica id that came back (a stable pod name)
            await pipe.execute()

    async def adopt_orphans(self) -> int:
        """Move the callbacks of dead replicas onto this replica's list; returns how many were moved."""
        members: set[str] = await self.redis.smembers(self.members)  # type: ignore[misc]  # redis-py types async commands as "Awaitable[T] | T"
        others = [m for m in members if m != self.instance_id]
        if not others:
            return 0
        async with self.redis.pipeline(transaction=False) as pipe:
            for member in others:
                pipe.exists(self._heartbeat(member))
            alive = await pipe.execute()
        moved = 0
        for member, beating in zip(others, alive, strict=True):
            if not beating:
                moved += await self._adopt(member)
        return moved

    async def _adopt(self, dead: str) -> int:
        lock = self.queues.state_key(self.origin, "adopting", dead)
        lock_ms = self.heartbeat_ttl_ms * 2
        if not await self.redis.set(lock, self.instance_id, nx=True, px=lock_ms):
            if await self.redis.get(lock) != self.instance_id:
                return 0  # another survivor is adopting it
            await self.redis.pexpire(lock, lock_ms)
        now_ms = int(time.time() * 1000)
        await self.redis.hsetnx(self.dead_since, dead, str(now_ms))  # type: ignore[misc]  # redis-py types async commands as "Awaitable[T] | T"
        queue = self.queues.callback_queue(self.origin, dead)
        parked = self.queues.processing_queue(queue, dead)
        moved = 0
        # what it was handling first (newest parked onto the consuming end), then what waited, oldest first.
        # The lists of two replicas may live on two cluster nodes: each callback is parked (same slot), pushed
        # here, then unparked: a crash in between hands one over twice, never loses it (handlers are idempotent)
        while await self.redis.lmove(parked, queue, "LEFT", "RIGHT") is not None:
            pass
        while (raw := await self.redis.lmove(queue, parked, "RIGHT", "LEFT")) is not None:
            await self.redis.lpush(self.own_queue, raw)  # type: ignore[misc]  # redis-py: "Awaitable[T] | T"
            await self.redis.lrem(parked, 1, raw)  # type: ignore[misc]
            moved += 1
        if moved:
            log.info("callbacks_adopted", dead_replica=dead, count=moved)
        since = int(await self.redis.hget(self.dead_since, dead) or now_ms)  # type: ignore[misc]  # redis-py types async commands as "Awaitable[T] | T"
        if now_ms - since > self.adopt_window_ms:  # its work has long ended or timed out: forget it
            async with self.redis.pipeline(transaction=False) as pipe:
                pipe.srem(self.members, dead)
                pipe.hdel(self.dead_since, dead)
                pipe.delete(queue, parked, lock)
                await pipe.execute()
            log.info("replica_forgotten", dead_replica=dead)
        return moved
