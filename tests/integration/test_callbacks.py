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
from common.contracts.contract import stream
from common.errors import ValidationError
from common.handlers import CallbackSenderHandler
from common.models import DomainAction
from common.workers.base_worker import BaseWorker
from common.workers.callback_consumer import CallbackConsumer
from common.workers.router import ActionRouter
from tests.support.contracts import Loose, loose_callback
from tests.support.helpers import eventually

TOKEN = loose_callback("tester.story.token")
TELL = stream("family.story.tell", Loose, TOKEN)


@asynccontextmanager
async def worker(redis, settings, router: ActionRouter[Any]) -> AsyncIterator[None]:
    running = BaseWorker(redis=redis, settings=settings, domain="family", router=router, deps=None)
    task = asyncio.create_task(running.run())
    try:
        yield
    finally:
        running.stop()
        await task


async def test_a_streamed_action_sends_its_own_callbacks_in_order_and_only_failures_come_from_the_worker(
    redis, settings, queues
) -> None:
    sender = CallbackSenderHandler(redis, queues, "family", settings.max_message_bytes)
    router: ActionRouter[Any] = ActionRouter()

    @router.handle(TELL)
    async def tell(action: DomainAction, data: Loose, deps: object) -> None:
        if data.get("fail"):
            raise KeyError("a story that cannot be told")
        for word in ("once", "upon", "a time"):
            await sender.send_callback(action, Loose.of(token=word))

    received: list[DomainAction] = []
    callbacks: ActionRouter[Any] = ActionRouter()

    @callbacks.handle(TOKEN)
    async def token(action: DomainAction, data: Loose, deps: object) -> None:
        received.append(action)

    queue = queues.callback_queue("tester", "i1")
    consumer = CallbackConsumer(redis=redis, settings=settings, queue=queue, consumer="c1", router=callbacks, deps=None)
    consuming = asyncio.create_task(consumer.run())
    client = BaseRedisClient(redis, settings, "tester")
    try:
        async with worker(redis, settings, router):
            told = await client.stream(TELL, Loose(), callback_queue=queue, tenant_id="t", task_id="story-1")
            assert told
            await eventually(lambda: _at_least(received, 3), what="the story's three callbacks")
            await client.stream(TELL, Loose.of(fail=True), callback_queue=queue, tenant_id="t", task_id="story-2")
            await eventually(lambda: _at_least(received, 4), what="the failed story's callback")
    finally:
        consumer.stop()
        await consuming
    # in order; the first story's worker sent nothing of its own (its handler succeeded); the second's failed
    assert [a.data.get("token") for a in received] == ["once", "upon", "a time", None]
    assert {a.task_id for a in received[:3]} == {"story-1"} and received[3].task_id == "story-2"
    assert received[3].data["error"]["error_type"] == "internal_error"
    no_queue = DomainAction(action_type="family.story.tell", tenant_id="t", origin_service="x")
    with pytest.raises(ValidationError):
        await sender.send_callback(no_queue, Loose.of(token="x"))


async def _at_least(items: list[DomainAction], n: int) -> bool:
    return len(items) >= n


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
            sender.queue_callback(pipe, origin, Loose.of(n=n))
        await pipe.execute()


async def test_a_burst_of_callbacks_is_taken_in_batches_in_order_and_nothing_stays_parked(
    redis, settings, queues
) -> None:
    queue = queues.callback_queue("tester", "burst")
    await queue_numbered_callbacks(redis, settings, queues, queue, 250)  # queued before anyone consumes
    seen: list[int] = []
    all_seen = asyncio.Event()
    callbacks: ActionRouter[Any] = ActionRouter()

    @callbacks.handle(TOKEN)
    async def token(action: DomainAction, data: Loose, deps: object) -> None:
        seen.append(data.get("n"))
        if len(seen) == 250:
            all_seen.set()

    consumer = CallbackConsumer(redis=redis, settings=settings, queue=queue, consumer="c1", router=callbacks, deps=None)
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
    consumer: CallbackConsumer[None] = CallbackConsumer(
        redis=redis, settings=settings, queue=queue, consumer="c1", router=ActionRouter(), deps=None
    )
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

    @callbacks.handle(TOKEN)
    async def token(action: DomainAction, data: Loose, deps: object) -> None:
        if data.get("n") == 1:
            raise KeyError("a bug in the handler")
        handled.append(data.get("n"))
        if data.get("n") == 2:
            done.set()

    before = metrics.DEAD_LETTERS.labels(settings.service_name)._value.get()
    consumer = CallbackConsumer(redis=redis, settings=settings, queue=queue, consumer="c1", router=callbacks, deps=None)
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
