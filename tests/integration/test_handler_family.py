"""The BaseHandler family on real Redis: class handlers, context + cache helpers, streamed callbacks."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import pytest
from pydantic import BaseModel

from common.clients import BaseRedisClient
from common.errors import ForbiddenError, NotFoundError, ValidationError
from common.handlers import (
    BaseActionHandler,
    BaseContextHandler,
    BaseHandler,
    CallbackReceiverHandler,
    CallbackSenderHandler,
)
from common.models import DomainAction, ExecutionContext
from common.workers.base_worker import BaseWorker
from common.workers.callback_consumer import CallbackConsumer
from common.workers.router import ActionRouter


@asynccontextmanager
async def worker(redis, settings, router: ActionRouter) -> AsyncIterator[None]:
    running = BaseWorker(redis=redis, settings=settings, domain="family", router=router)
    task = asyncio.create_task(running.run())
    try:
        yield
    finally:
        running.stop()
        await task


class Greeting(BaseModel):
    name: str


class GreetHandler(BaseActionHandler):
    action_type = "family.greeting.make"
    payload_model = Greeting

    def __init__(self) -> None:
        super().__init__()
        self.initialised = 0

    async def _async_init(self) -> None:
        self.initialised += 1

    async def handle(self, action: DomainAction, payload: Greeting) -> dict[str, str]:
        return {"greeting": f"hola {payload.name}"}


async def test_class_handler_initialises_once_and_validates(redis, settings) -> None:
    handler = GreetHandler()
    router = ActionRouter()
    handler.register(router)
    client = BaseRedisClient(redis, settings, "tester")
    async with worker(redis, settings, router):
        for name in ("ana", "luis"):
            assert await client.call(
                client.new_action("family.greeting.make", tenant_id="t", data={"name": name}), 10
            ) == {"greeting": f"hola {name}"}
        bad = await client.send_action_pseudo_sync(client.new_action("family.greeting.make", tenant_id="t"), 10)
    assert handler.initialised == 1
    assert bad.error is not None and bad.error.error_code == "invalid_payload"


def test_standard_responses() -> None:
    action = DomainAction(action_type="family.greeting.make", tenant_id="t", origin_service="x")
    ok = BaseHandler._create_success_response(action, Greeting(name="a"))
    assert ok.success and ok.data == {"name": "a"} and ok.correlation_id == action.action_id
    failed = BaseHandler._create_error_response(action, NotFoundError("gone", code="x_gone"))
    assert not failed.success and failed.error.error_type == "not_found" and failed.error.error_code == "x_gone"
    crashed = BaseHandler._create_error_response(action, KeyError("k"))
    assert crashed.error.error_type == "internal_error"


async def test_context_handler_resolves_checks_tenant_and_caches(redis, queues) -> None:
    handler = BaseContextHandler(redis, queues, domain="family", cache_ttl_s=30)
    context = ExecutionContext(context_type="agent", tenant_id="t1", primary_agent_id="a1")
    action = DomainAction(
        action_type="family.greeting.make",
        tenant_id="t1",
        origin_service="x",
        metadata={"context": context.model_dump(mode="json")},
    )
    assert await handler.resolve_context(action) == context
    foreign = action.model_copy(update={"tenant_id": "t2"})
    with pytest.raises(ForbiddenError):
        await handler.resolve_context(foreign)
    with pytest.raises(ValidationError):
        await handler.resolve_context(action.model_copy(update={"metadata": {}}))

    loads = 0

    async def loader() -> dict[str, int]:
        nonlocal loads
        loads += 1
        return {"value": loads}

    assert await handler.cached(loader, "agent", "a1") == {"value": 1}
    assert await handler.cached(loader, "agent", "a1") == {"value": 1}  # served from Redis
    assert 0 < await redis.ttl(handler.cache_key("agent", "a1")) <= 30
    await handler.invalidate("agent", "a1")
    assert await handler.cached(loader, "agent", "a1") == {"value": 2}


async def test_callback_sender_streams_events_to_the_receiver(redis, settings, queues) -> None:
    sender = CallbackSenderHandler(redis, queues, "family", settings.max_message_bytes)
    router = ActionRouter()

    @router.handle("family.story.tell")
    async def tell(action: DomainAction, data: dict, deps: object) -> dict[str, str]:
        for word in ("once", "upon"):
            await sender.send_callback(action, {"token": word}, "tester.story.token")
        return {"done": "a time"}

    received: list[DomainAction] = []
    finished = CallbackReceiverHandler()
    callbacks = ActionRouter()

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
    callbacks = ActionRouter()

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
