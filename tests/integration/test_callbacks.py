"""The callback helpers on real Redis: streamed callbacks in order, bursts in batches, parked ones recovered."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import pytest

from common import metrics
from common.clients import BaseRedisClient
from common.errors import ValidationError
from common.handlers import (
    CallbackReceiverHandler,
    CallbackSenderHandler,
)
from common.models import DomainAction
from common.workers.base_worker import BaseWorker
from common.workers.callback_consumer import CallbackConsumer
from common.workers.router import ActionRouter
from tests.support.helpers import eventually


@asynccontextmanager
async def worker(redis, settings, router: ActionRouter) -> AsyncIterator[None]:
    running = BaseWorker(redis=redis, settings=settings, domain="family", router=router)
    task = asyncio.create_task(running.run())
    try:
        yield
    finally:
        running.stop()
        await task


async def test_callback_sender_streams_events_to_the_receiver(redis, settings, queues) -> None:
    sender = CallbackSenderHandler(redis, queues, "family", settings.max_message_bytes)
    router: ActionRouter[Any] = ActionRouter()

    @router.handle("family.story.tell")
    async def tell(action: DomainAction, data: dict, deps: object) -> dict[str, str]:
        for word in ("once", "upon"):
            await sender.send_callback(action, {"token": word}, "tester.story.token")
        return {"done": "a time"}

    received: list[DomainAction] = []
    finished = CallbackReceiverHandler()
    callbacks: ActionRouter[Any] = ActionRouter()

    @callbacks.handle("tester.story.token")
    async def token(action: DomainAction, data: dict, deps: object) -> None:
        received.append(action)

    callbacks.add("tester.story.done", finished)
    queue = queues.callback_queue("tester", "i1")
    consumer = CallbackConsumer(redis=redis, settings=settings, queue=queue, consumer="c1", router=callbacks)
    consuming = asyncio.create_task(consumer.run())
    client = BaseRedisClient(redis, settings, "tester")
    try:
        async with worker(redis, settings, router):
            action = client.new_action("family.story.tell", tenant_id="t", task_id="story-1")
            finished.expect("story-1")
            await client.send_action_async_with_callback(action, "tester.story.done", queue)
            done = await finished.wait_for_callback("story-1", timeout=10)
    finally:
        consumer.stop()
        await consuming
    assert [a.data["token"] for a in received] == ["once", "upon"]  # in order, before the end
    assert done.data == {"done": "a time"} and done.correlation_id == action.action_id
    no_queue = DomainAction(action_type="family.story.tell", tenant_id="t", origin_service="x")
    with pytest.raises(ValidationError):
        await sender.send_callback(no_queue, {"token": "x"})


async def queue_numbered_callbacks(redis, settings, queues, queue: str, count: int) -> None:
    """`count` tester.story.token callbacks with data {"n": 0..count-1}, queued in that order."""
    sender = CallbackSenderHandler(redis, queues, "family", settings.max_message_bytes)
    origin = DomainAction(
        action_type="family.story.tell",
        tenant_id="t",
        origin_service="tester",
        callback_queue_name=queue,
        callback_action_type="tester.story.token",
    )
    async with redis.pipeline(transaction=False) as pipe:
        for n in range(count):
            sender.queue_callback(pipe, origin, {"n": n})
        await pipe.execute()


async def test_a_burst_of_callbacks_is_taken_in_batches_in_order_and_nothing_stays_parked(
    redis, settings, queues
) -> None:
    queue = queues.callback_queue("tester", "burst")
    await queue_numbered_callbacks(redis, settings, queues, queue, 250)  # queued before anyone consumes
    seen: list[int] = []
    all_seen = asyncio.Event()
    callbacks: ActionRouter[Any] = ActionRouter()

    @callbacks.handle("tester.story.token")
    async def token(action: DomainAction, data: dict, deps: object) -> None:
        seen.append(data["n"])
        if len(seen) == 250:
            all_seen.set()

    consumer = CallbackConsumer(redis=redis, settings=settings, queue=queue, consumer="c1", router=callbacks)
    consuming = asyncio.create_task(consumer.run())
    try:
        await asyncio.wait_for(all_seen.wait(), timeout=20)
    finally:
        consumer.stop()
        await consuming
    assert seen == list(range(250))
    assert await redis.llen(queue) == 0 and await redis.llen(consumer.processing) == 0


async def test_callbacks_parked_by_a_dead_consumer_are_recovered_in_their_order(redis, settings, queues) -> None:
    queue = queues.callback_queue("tester", "crashy")
    await queue_numbered_callbacks(redis, settings, queues, queue, 5)
    consumer = CallbackConsumer(redis=redis, settings=settings, queue=queue, consumer="c1", router=ActionRouter())
    for _ in range(3):  # a previous run took three and died before handling them
        await redis.lmove(queue, consumer.processing, "RIGHT", "LEFT")
    assert await consumer.recover() == 3
    order = [json.loads(raw)["data"]["n"] for raw in reversed(await redis.lrange(queue, 0, -1))]
    assert order == [0, 1, 2, 3, 4]  # consumed from the right: oldest first, as before the crash


async def test_callbacks_that_cannot_be_handled_are_dead_lettered_and_counted(redis, settings, queues) -> None:
    """Unreadable, without a handler, or whose handler fails: each is kept in the callbacks' dead letters with
    its error and counted, like a failed action; the consumer goes on with the next."""
    queue = queues.callback_queue("tester", "failing")
    await queue_numbered_callbacks(redis, settings, queues, queue, 3)  # n = 0, 1, 2
    await redis.lpush(queue, "{not json")
    handled: list[int] = []
    done = asyncio.Event()
    callbacks: ActionRouter[Any] = ActionRouter()

    @callbacks.handle("tester.story.token")
    async def token(action: DomainAction, data: dict, deps: object) -> None:
        if data["n"] == 1:
            raise KeyError("a bug in the handler")
        handled.append(data["n"])
        if data["n"] == 2:
            done.set()

    before = metrics.DEAD_LETTERS.labels(settings.service_name)._value.get()
    consumer = CallbackConsumer(redis=redis, settings=settings, queue=queue, consumer="c1", router=callbacks)
    consuming = asyncio.create_task(consumer.run())
    try:
        await asyncio.wait_for(done.wait(), timeout=10)
        await eventually(lambda: _count(redis, consumer.dead_letters, 2), what="both dead letters")
    finally:
        consumer.stop()
        await consuming
    entries = await redis.xrange(consumer.dead_letters)
    errors = [json.loads(fields["error"])["error_type"] for _, fields in entries]
    assert handled == [0, 2] and sorted(errors) == ["internal_error", "validation_error"]
    assert all(fields["queue"] == queue and fields["callback"] for _, fields in entries)
    assert metrics.DEAD_LETTERS.labels(settings.service_name)._value.get() == before + 2
    assert await redis.llen(consumer.processing) == 0


async def _count(redis: Any, stream: str, n: int) -> bool:
    return bool(await redis.xlen(stream) >= n)
