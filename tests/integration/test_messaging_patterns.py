"""The three patterns and the failure cases between this process and a real worker process."""

from __future__ import annotations

import asyncio
import json
import signal
import time
from datetime import timedelta
from typing import Any

import pytest

from common.clients import BaseRedisClient
from common.clients.reply_listener import reply_listener
from common.errors import ActionTimeoutError, NoobleError, NotFoundError
from common.messaging import RedisManager
from common.messaging.codec import ACTION_FIELD
from common.messaging.redis_manager import RedisClosedError
from common.models.actions import utc_now
from common.models.tiers import Tier
from common.workers.callback_consumer import CallbackConsumer
from common.workers.router import ActionRouter
from tests.support.contracts import Collector, loose_callback
from tests.support.helpers import blocked_on, eventually, pop

WORKER = "tests.support.echo_worker"


@pytest.fixture
def client(redis, settings) -> BaseRedisClient:
    return BaseRedisClient(redis, settings, origin_service="tester")


def key(queues, *parts: str) -> str:
    return queues.state_key("echo", *parts)


async def test_pseudo_sync_round_trip(client, processes) -> None:
    worker = processes.start(WORKER)
    reply = await client.send_action_pseudo_sync(
        client.new_action("echo.message.say", tenant_id="t1", data={"text": "hola"}), timeout=15
    )
    assert reply.success and reply.error is None
    assert reply.data == {"text": "hola", "pid": str(worker.pid)}


async def test_business_error_comes_back_typed(client, processes) -> None:
    processes.start(WORKER)
    with pytest.raises(NotFoundError) as raised:
        await client.call_action(client.new_action("echo.message.missing", tenant_id="t1"), timeout=15)
    assert raised.value.code == "echo_missing"


async def test_fire_and_forget(client, redis, queues, processes) -> None:
    processes.start(WORKER)
    action = client.new_action("echo.job.apply", tenant_id="t1")
    await client.send_action_async(action)
    assert await pop(redis, key(queues, "started")) == action.action_id
    assert await redis.get(key(queues, "counter")) == "1"


async def test_async_with_callback(client, redis, settings, queues, processes) -> None:
    processes.start(WORKER)
    receiver = Collector()
    callbacks: ActionRouter[Any] = ActionRouter()
    callbacks.add(loose_callback("tester.job.done"), receiver)
    queue = queues.callback_queue("tester", "instance-1")
    consumer = CallbackConsumer(redis=redis, settings=settings, queue=queue, consumer="c1", router=callbacks, deps=None)
    consuming = asyncio.create_task(consumer.run())
    try:
        action = client.new_action("echo.job.callback", tenant_id="t1", task_id="task-7", data={"what": "x"})
        await client.send_action_async_with_callback(action, "tester.job.done", queue)
        callback = await receiver.first(timeout=15)
    finally:
        consumer.stop()
        await consuming
    assert callback.action_type == "tester.job.done" and callback.task_id == "task-7"
    assert callback.data == {"done": "x"}
    assert callback.correlation_id == action.action_id
    assert callback.metadata["status"] == "completed"
    assert await redis.llen(queues.processing_queue(queue, "c1")) == 0


async def test_sigkill_mid_handler_is_reclaimed_and_effect_happens_once(client, redis, queues, processes) -> None:
    doomed = processes.start(WORKER, ECHO_HANG_ON_APPLY="1")
    action = client.new_action("echo.job.apply", tenant_id="t1")
    call = asyncio.create_task(client.send_action_pseudo_sync(action, timeout=30))
    assert await pop(redis, key(queues, "started")) == action.action_id  # the handler is running
    doomed.send_signal(signal.SIGKILL)
    doomed.wait(timeout=10)
    survivor = processes.start(WORKER)
    reply = await call
    assert reply.success, reply.error
    assert reply.data == {"count": 1}
    assert await redis.get(key(queues, "counter")) == "1"  # the effect happened exactly once
    assert survivor.poll() is None


async def test_holders_killed_repeatedly_do_not_dead_letter_a_message_that_then_succeeds(
    client, redis, queues, processes
) -> None:
    """Its consumers die mid-handler four times (more than max_deliveries=3); those are not failures of the
    message: the fifth holder completes it, once, and nothing is dead-lettered."""
    action = client.new_action("echo.job.apply", tenant_id="t1")
    call = asyncio.create_task(client.send_action_pseudo_sync(action, timeout=60))
    for _ in range(4):
        doomed = processes.start(WORKER, ECHO_HANG_ON_APPLY="1", NOOBLE4_MAX_DELIVERIES="3")
        assert await pop(redis, key(queues, "started"), timeout=20) == action.action_id
        doomed.send_signal(signal.SIGKILL)
        await asyncio.to_thread(doomed.wait, 10)
    processes.start(WORKER, NOOBLE4_MAX_DELIVERIES="3")
    reply = await call
    assert reply.success and reply.data == {"count": 1}, reply.error
    assert await redis.xlen(queues.dead_letter_stream("echo")) == 0


async def test_poison_message_is_retried_then_dead_lettered(client, redis, queues, processes, settings) -> None:
    processes.start(WORKER, NOOBLE4_MAX_DELIVERIES="3")
    action = client.new_action("echo.job.fail", tenant_id="t1")
    await client.send_action_async(action)
    dead_stream = queues.dead_letter_stream("echo")
    entries = await eventually(lambda: redis.xrange(dead_stream), what="a dead letter")
    assert entries, "no dead letter"
    fields = entries[0][1]
    assert json.loads(fields["action"])["action_id"] == action.action_id
    assert fields["delivery_count"] == "3"
    error = json.loads(fields["error"])
    assert error["error_type"] == "dependency_error" and "ConnectionError" in error["message"]
    assert "boom" not in error["message"]  # the exception's own text is for the logs, not the reply
    assert await redis.get(key(queues, "attempts", action.action_id)) == "3"
    pending = await redis.xpending(queues.action_stream("echo", Tier.FREE), "echo-workers")
    assert pending["pending"] == 0


async def test_deterministic_failure_ends_at_once_with_its_failure_handler(client, redis, queues, processes) -> None:
    """No retries, no waiting out a timeout: one attempt, a typed error, the domain's failure handler ran once."""
    processes.start(WORKER, NOOBLE4_MAX_DELIVERIES="5")
    action = client.new_action("echo.job.bug", tenant_id="t1")
    started = time.monotonic()
    with pytest.raises(NoobleError) as caught:
        await client.call_action(action, timeout=10)
    assert time.monotonic() - started < 5  # answered, not timed out
    assert caught.value.error_type == "internal_error" and "KeyError" in caught.value.message
    assert "boom" not in caught.value.message
    assert await redis.get(key(queues, "attempts", action.action_id)) == "1"
    assert await redis.lrange(key(queues, "given_up", action.action_id), 0, -1) == ["unhandled_exception"]


async def test_malformed_and_unknown_messages_get_typed_errors_and_dead_letters(
    client, redis, queues, processes, settings
) -> None:
    worker = processes.start(WORKER)
    stream = queues.action_stream("echo", Tier.FREE)
    reply_queue = queues.response_queue("tester", "bad-1")
    # 1. not JSON at all; 2. JSON missing required fields but saying where to reply
    await redis.xadd(stream, {ACTION_FIELD: "{not json"})
    await redis.xadd(stream, {"something": "else"})
    await redis.xadd(stream, {ACTION_FIELD: json.dumps({"action_id": "bad-1", "callback_queue_name": reply_queue})})
    missing = json.loads(await pop(redis, reply_queue))
    assert missing["success"] is False
    assert missing["error"]["error_type"] == "validation_error"
    assert missing["error"]["error_code"] == "malformed_message"
    # 3. an unknown action type and 4. data that fails the handler's model: typed replies
    unknown = await client.send_action_pseudo_sync(client.new_action("echo.nothing.here", tenant_id="t1"), 15)
    assert unknown.error is not None and unknown.error.error_code == "unknown_action"
    invalid = await client.send_action_pseudo_sync(
        client.new_action("echo.message.say", tenant_id="t1", data={"text": 5}), 15
    )
    assert invalid.error is not None and invalid.error.error_code == "invalid_payload"
    assert invalid.error.details["errors"][0]["loc"] == ["text"]
    # 5. an oversized message: the client refuses it before it reaches Redis ...
    huge = client.new_action("echo.message.say", tenant_id="t1", data={"text": "x" * settings.max_message_bytes})
    with pytest.raises(Exception, match="exceeds"):
        await client.send_action_async(huge)
    # ... and the worker refuses one written around the client
    await redis.xadd(stream, {ACTION_FIELD: huge.model_dump_json()})

    dead = queues.dead_letter_stream("echo")
    await eventually(lambda: _length_is(redis, dead, 6), what="6 dead letters")
    codes = [json.loads(f["error"])["error_code"] for _, f in await redis.xrange(dead)]
    assert sorted(codes) == sorted(
        ["malformed_message"] * 3 + ["unknown_action", "invalid_payload", "payload_too_large"]
    )
    # the worker is still alive and serving
    ok = await client.send_action_pseudo_sync(
        client.new_action("echo.message.say", tenant_id="t1", data={"text": "still here"}), 15
    )
    assert ok.success and worker.poll() is None
    assert (await redis.xpending(stream, "echo-workers"))["pending"] == 0


async def _length_is(redis, stream: str, n: int) -> bool:
    return await redis.xlen(stream) >= n


async def test_pseudo_sync_timeout_leaves_no_reply_behind(client, redis, queues, processes) -> None:
    processes.start(WORKER)
    await client.call_action(client.new_action("echo.message.say", tenant_id="t1", data={"text": "up?"}), 15)
    action = client.new_action("echo.job.hold", tenant_id="t1")
    with pytest.raises(ActionTimeoutError) as raised:
        await client.send_action_pseudo_sync(action, timeout=0.5)
    assert (raised.value.details or {})["correlation_id"] == action.action_id
    assert await pop(redis, key(queues, "started")) == action.action_id
    await redis.lpush(key(queues, "release", action.action_id), "go")  # the handler finishes late
    stream = queues.action_stream("echo", Tier.FREE)
    await eventually(lambda: _all_acked(redis, stream), what="late action acknowledged")
    reply_queue = reply_listener(client.redis, client.queues, client.origin_service).queue
    assert await redis.exists(reply_queue) == 0


async def _all_acked(redis, stream: str) -> bool:
    return (await redis.xpending(stream, "echo-workers"))["pending"] == 0


async def test_replies_expire(client, redis, queues, processes, settings) -> None:
    """A reply nobody pops still disappears: LPUSH and EXPIRE travel in one pipeline."""
    processes.start(WORKER)
    action = client.new_action("echo.message.say", tenant_id="t1", data={"text": "x"}, correlation_id="c-9")
    reply_queue = queues.response_queue("tester", "c-9")
    action = action.model_copy(
        update={"callback_queue_name": reply_queue, "deadline": utc_now() + timedelta(seconds=30)}
    )
    await client.send_action_async(action)
    await eventually(lambda: redis.exists(reply_queue), what="reply pushed")
    ttl = await redis.ttl(reply_queue)
    assert 0 < ttl <= settings.reply_ttl_s


async def test_work_past_its_deadline_is_skipped(client, redis, queues, processes) -> None:
    processes.start(WORKER, NOOBLE4_WORKER_CONCURRENCY="1")
    expired = client.new_action("echo.job.apply", tenant_id="t1", deadline=utc_now() - timedelta(seconds=1))
    fresh = client.new_action("echo.job.apply", tenant_id="t1")
    await client.send_action_async(expired)
    await client.send_action_async(fresh)  # same stream, one at a time: handled after `expired`
    assert await pop(redis, key(queues, "started")) == fresh.action_id
    assert await redis.exists(key(queues, "effect", expired.action_id)) == 0
    assert await redis.get(key(queues, "counter")) == "1"


async def test_a_cancelled_caller_stops_waiting_and_its_read_still_ends_cleanly(
    client, redis, queues, processes
) -> None:
    """Cancelling a pseudo-sync caller (e.g. a cancelled chat turn) never cancels a Redis read: the caller is
    released at once, the process's reply listener still consumes the reply that comes later, and calls go on."""
    processes.start(WORKER)
    await client.call_action(client.new_action("echo.message.say", tenant_id="t1", data={"text": "up?"}), 15)
    action = client.new_action("echo.job.hold", tenant_id="t1")
    waiting = asyncio.create_task(client.send_action_pseudo_sync(action, timeout=15))
    assert await pop(redis, key(queues, "started")) == action.action_id
    waiting.cancel()
    with pytest.raises(asyncio.CancelledError):
        await waiting
    await redis.lpush(key(queues, "release", action.action_id), "go")
    reply_queue = reply_listener(client.redis, client.queues, client.origin_service).queue

    async def reply_taken() -> bool:  # the listener popped the late reply: nothing is left behind
        stream = queues.action_stream("echo", Tier.FREE)
        return await _all_acked(redis, stream) and await redis.exists(reply_queue) == 0

    await eventually(reply_taken, what="late reply consumed by the still-running read")
    again = await client.call_action(client.new_action("echo.message.say", tenant_id="t1", data={"text": "still"}), 15)
    assert again["text"] == "still"


async def test_concurrent_calls_share_one_blocking_reply_read(client, redis, queues, processes, settings) -> None:
    """40 calls in flight hold one blocking connection between them (the process's reply listener), not one
    each, and every caller gets its own reply."""
    processes.start(WORKER, NOOBLE4_WORKER_CONCURRENCY="64")
    await client.call_action(client.new_action("echo.message.say", tenant_id="t1", data={"text": "up?"}), 15)
    actions = [client.new_action("echo.job.hold", tenant_id="t1") for _ in range(40)]
    calls = [asyncio.create_task(client.call_action(action, 30)) for action in actions]
    started = {await pop(redis, key(queues, "started")) for _ in actions}
    assert started == {action.action_id for action in actions}
    clients = await redis.client_list()
    blocked = [c for c in clients if c.get("name") == settings.service_name and c.get("cmd") == "brpop"]
    assert len(blocked) == 1
    for action in reversed(actions):
        await redis.lpush(key(queues, "release", action.action_id), "go")
    results = await asyncio.gather(*calls)
    assert [result["released"] for result in results] == [action.action_id for action in actions]


async def test_closing_the_client_ends_its_reply_listener_and_fails_the_waiting_calls(redis, settings) -> None:
    """A process that closes its Redis client while calls wait (a service shutting down) leaves nothing behind:
    the waiting calls fail at once with RedisClosedError instead of waiting out their timeout, the listener ends
    instead of reconnecting (a blocked read left on the server under the process's name), and later commands
    through the closed client fail the same way without opening a connection."""
    named = settings.model_copy(update={"service_name": f"closing-{time.time_ns()}"})
    manager = RedisManager(named)
    caller = BaseRedisClient(manager.client, named, origin_service="tester")
    calls = [  # nobody serves them: they wait on the listener until closed
        asyncio.create_task(caller.call_action(caller.new_action("echo.message.say", tenant_id="t1"), 60))
        for _ in range(3)
    ]

    async def named_clients() -> list[dict]:
        return [c for c in await redis.client_list() if c.get("name") == named.service_name]

    await eventually(lambda: blocked_on(redis, named.service_name, "brpop"), what="the reply listener blocked")
    await manager.close()
    outcomes = await asyncio.wait_for(asyncio.gather(*calls, return_exceptions=True), 10)
    assert all(isinstance(outcome, RedisClosedError) for outcome in outcomes), outcomes
    listener = reply_listener(manager.client, caller.queues, "tester")
    assert listener._task is not None and listener._task.done() and listener._task.exception() is None
    with pytest.raises(RedisClosedError):
        await manager.client.get("anything")

    async def all_gone() -> bool:
        return not await named_clients()

    await eventually(all_gone, what="the closed client's connections gone from the server")
