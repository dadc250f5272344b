"""Consumes a callback list crash-safely: BLMOVE into a per-consumer processing list, LREM when done;
when the list is busy, callbacks are taken and removed in batches. A callback that cannot be handled (unreadable,
no handler, its handler failed) goes to the callbacks' dead-letter stream with its error, and is counted
(`nooble4_dead_letters_total`), as a failed action is."""

from __future__ import annotations

import asyncio
import contextlib
import json
from typing import Generic

from redis.asyncio import Redis
from redis.asyncio.client import Pipeline

from common import metrics
from common.errors import ValidationError, as_nooble_error
from common.log import bound_action, get_logger
from common.messaging.backoff import REDIS_DOWN, Backoff
from common.messaging.codec import decode_action
from common.messaging.queue_manager import QueueManager
from common.messaging.redis_manager import MAX_BLOCK_S
from common.settings import CommonSettings
from common.tasks import supervised
from common.workers.router import ActionRouter, D

log = get_logger(__name__)
BATCH = 100  # callbacks taken per round when the list is busy
DEAD_LETTERS_KEPT = 10_000


class CallbackConsumer(Generic[D]):
    def __init__(
        self,
        *,
        redis: Redis,
        settings: CommonSettings,
        queue: str,
        consumer: str,
        router: ActionRouter[D],
        deps: D,
    ):
        self.redis = redis
        self.settings = settings
        self.queue = queue
        self.router = router
        self.deps = deps
        queues = QueueManager(settings.environment)
        self.processing = queues.processing_queue(queue, consumer)
        self.dead_letters = queues.dead_letter_stream("callbacks")
        self._stopping = asyncio.Event()

    def start(self) -> asyncio.Task[None]:
        """Run in a supervised task (restarted loudly if it ever fails); `stop()` then await the task."""
        return supervised(f"callbacks:{self.queue}", self.run, self._stopping)

    def stop(self) -> None:
        self._stopping.set()

    async def recover(self) -> int:
        """Put back what a previous run of this consumer was handling when it died."""
        moved = 0
        # newest first onto the consuming end, so the oldest ends up consumed first again
        while await self.redis.lmove(self.processing, self.queue, "LEFT", "RIGHT") is not None:
            moved += 1
        if moved:
            log.info("callbacks_recovered", queue=self.queue, count=moved)
        return moved

    async def run(self) -> None:
        """Consume until `stop()`, surviving Redis restarts (what was taken but not yet removed is recovered and
        handled again: callback handlers are idempotent). Run it under `common.tasks.supervised`."""
        backoff = Backoff()
        recovered = False
        handled: list[str] = []  # removed from the processing list with the next take, in its round trip
        try:
            while not self._stopping.is_set():
                try:
                    if not recovered:
                        await self.recover()
                        recovered, handled = True, []
                    batch = await self._take(handled)
                    handled = []
                    for raw in batch:  # in arrival order: a session's events stay in order
                        await self._handle(raw)
                    handled = batch
                    backoff.reset()
                except REDIS_DOWN as exc:
                    recovered = False  # a restarted Redis may still hold the processing list (AOF): recover it
                    await backoff.wait(exc, queue=self.queue)
        finally:
            if handled and recovered:
                with contextlib.suppress(*REDIS_DOWN):  # else recovered and handled again at the next start
                    await self._remove(handled)

    async def _remove(self, handled: list[str]) -> None:
        async with self.redis.pipeline(transaction=False) as pipe:
            self._queue_removal(pipe, handled)
            await pipe.execute()

    def _queue_removal(self, pipe: Pipeline, handled: list[str]) -> None:
        for raw in handled:
            pipe.lrem(self.processing, 1, raw)

    async def _take(self, handled: list[str]) -> list[str]:
        """Remove the callbacks just handled, wait for one more and learn how many others are queued, all in one
        round trip; then take those (up to a batch) in one more. An idle list costs one round trip per callback
        besides its handler's."""
        async with self.redis.pipeline(transaction=False) as pipe:
            self._queue_removal(pipe, handled)
            pipe.blmove(self.queue, self.processing, int(MAX_BLOCK_S / 2), "RIGHT", "LEFT")
            pipe.llen(self.queue)
            *_, first, queued = await pipe.execute()
        if first is None:
            return []
        waiting = min(queued, BATCH - 1)
        if not waiting:
            return [first]
        async with self.redis.pipeline(transaction=False) as pipe:
            for _ in range(waiting):
                pipe.lmove(self.queue, self.processing, "RIGHT", "LEFT")
            more = await pipe.execute()
        return [first, *(raw for raw in more if raw is not None)]

    async def _handle(self, raw: str) -> None:
        try:
            action = decode_action(raw, self.settings.max_message_bytes)
            route = self.router.get(action.action_type)
            if route is None:
                raise ValidationError(f"no callback handler for {action.action_type!r}", code="unknown_action")
            with bound_action(action):
                await route.handler(action, route.parse(action.data), self.deps)
        except Exception as exc:  # a bad callback must not stop the consumer: it is dead-lettered
            error = as_nooble_error(exc)
            log.error("callback_failed", queue=self.queue, error=error.message, exc_info=exc)
            metrics.DEAD_LETTERS.labels(self.settings.service_name).inc()
            try:
                await self.redis.xadd(
                    self.dead_letters,
                    {
                        "callback": raw,
                        "queue": self.queue,
                        "error": json.dumps(error.to_detail().model_dump(mode="json")),
                    },
                    maxlen=DEAD_LETTERS_KEPT,
                    approximate=True,
                )
            except REDIS_DOWN as down:
                log.error("callback_dead_letter_lost", queue=self.queue, error=str(down))
