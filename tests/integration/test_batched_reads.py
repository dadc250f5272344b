"""Batches arrive in one read. Callers send their actions in one pipeline and a worker pushes a batch's replies in
one LPUSH, but Redis serves a blocked read as soon as the first entry is in, with that entry alone: the worker
and the reply listener pipeline a second, non-blocking read behind the blocking one, which Redis runs once the
rest is in. Without it, a batch arrives as one entry now and the rest a round trip later."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

import pytest
from redis.asyncio import Redis

from common.clients import BaseRedisClient
from common.clients.reply_listener import ReplyListener
from common.messaging import QueueManager
from common.messaging.codec import ACTION_FIELD, encode
from common.models.actions import DomainAction, DomainActionResponse
from common.models.tiers import Tier
from common.settings import CommonSettings
from common.workers.base_worker import BATCH_MEMORY, BaseWorker
from common.workers.router import ActionRouter
from tests.support.contracts import Loose, loose_call
from tests.support.helpers import blocked_on, eventually

BATCH = 8


class ReadRecordingWorker(BaseWorker[None]):
    """A worker that notes how many messages each of its reads returned."""

    def __init__(self, **kwargs: Any):
        super().__init__(**kwargs)
        self.reads: list[int] = []

    async def _read(self, *args: Any) -> Any:
        deliveries = await super()._read(*args)
        if deliveries:
            self.reads.append(len(deliveries))
        return deliveries


@pytest.fixture
async def worker(redis: Redis, settings: CommonSettings) -> AsyncIterator[ReadRecordingWorker]:
    router: ActionRouter[Any] = ActionRouter()

    @router.handle(loose_call("probe.batch.take"))
    async def take(action: DomainAction, data: Loose, deps: object) -> Loose:
        return Loose.of(n=data.get("n"))

    one_consumer = settings.model_copy(update={"worker_consumers": 1, "worker_read_batch": 64})
    worker = ReadRecordingWorker(redis=redis, settings=one_consumer, domain="probe", router=router, deps=None)
    running = asyncio.create_task(worker.run())
    try:
        yield worker
    finally:
        worker.stop()
        await running


async def send_in_one_pipeline(redis: Redis, client: BaseRedisClient, stream: str, numbers: range) -> None:
    """What the action writer does with concurrent calls: their XADDs in one pipeline."""
    async with redis.pipeline(transaction=False) as pipe:
        for n in numbers:
            action = client.new_action("probe.batch.take", tenant_id="t1", data={"n": n})
            pipe.xadd(stream, {ACTION_FIELD: encode(action, client.settings.max_message_bytes)})
        await pipe.execute()


async def test_a_batch_sent_to_a_waiting_worker_is_read_at_once(
    redis: Redis, settings: CommonSettings, queues: QueueManager, worker: ReadRecordingWorker
) -> None:
    client = BaseRedisClient(redis, settings, origin_service="tester")
    stream = queues.action_stream("probe", Tier.FREE)
    group = queues.consumer_group("probe")

    async def waiting() -> bool:
        return await blocked_on(redis, settings.service_name, "xreadgroup")

    async def all_done(count: int) -> bool:
        return (await redis.xpending(stream, group))["pending"] == 0 and sum(worker.reads) == count

    async def send_and_handle(numbers: range) -> list[int]:
        """The reads that took the batch `numbers`, sent once the worker waits for work."""
        await eventually(waiting, what="the worker waiting for work")
        before, handled = len(worker.reads), sum(worker.reads)
        await send_in_one_pipeline(redis, client, stream, numbers)
        await eventually(lambda: all_done(handled + len(numbers)), what="the batch handled")
        return worker.reads[before:]

    # a worker that has seen no batch reads with one blocking command: the first entry, then the rest
    assert (await send_and_handle(range(BATCH)))[0] == 1
    # having seen one, it reads the next whole: one entry served, the rest by the read pipelined behind it
    assert await send_and_handle(range(BATCH, 2 * BATCH)) == [BATCH]
    # after BATCH_MEMORY lone messages it goes back to one blocking command per read
    for n in range(BATCH_MEMORY):
        assert await send_and_handle(range(100 + n, 101 + n)) == [1]
    assert (await send_and_handle(range(200, 200 + BATCH)))[0] == 1


async def test_replies_pushed_together_reach_every_waiting_call_in_one_round_trip(
    redis: Redis, settings: CommonSettings, queues: QueueManager
) -> None:
    listener = ReplyListener(redis, queues, "tester")
    replies = [
        DomainActionResponse(action_id=f"a{n}", correlation_id=f"c{n}", trace_id="t", success=True, data={"n": n})
        for n in range(BATCH)
    ]
    waiting = [listener.expect(reply.correlation_id, timeout=10) for reply in replies]
    listener.request_sent()
    await eventually(lambda: blocked_on(redis, settings.service_name, "brpop"), what="the listener waiting for replies")
    await redis.lpush(listener.queue, *[reply.model_dump_json() for reply in replies])  # as a worker's outbox does
    await asyncio.wait(waiting, return_when=asyncio.FIRST_COMPLETED)
    assert all(future.done() for future in waiting)  # resolved together, not one now and the rest later
    assert [future.result().data for future in waiting] == [{"n": n} for n in range(BATCH)]
    for reply in replies:
        listener.forget(reply.correlation_id)
    assert await redis.llen(listener.queue) == 0
