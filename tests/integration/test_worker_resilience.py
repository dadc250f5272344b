"""Tier priority under saturation, Redis restarts and graceful shutdown, with real worker processes."""

from __future__ import annotations

import asyncio
import signal
from statistics import mean

import pytest

from common.clients import BaseRedisClient
from common.launcher.embedded import EmbeddedRedis
from common.messaging import RedisManager
from common.models.tiers import Tier
from common.settings import CommonSettings
from tests.support.helpers import eventually, pop

WORKER = "tests.support.echo_worker"


@pytest.fixture
def client(redis, settings) -> BaseRedisClient:
    return BaseRedisClient(redis, settings, origin_service="tester")


async def test_enterprise_waits_less_than_free_and_free_still_completes(client, redis, queues, processes) -> None:
    per_tier = 40
    for _ in range(per_tier):  # a backlog of both tiers before the worker starts: saturation
        for tier in (Tier.FREE, Tier.ENTERPRISE):
            await client.send_action_async(client.new_action("echo.job.record", tenant_id="t1", tenant_tier=tier))
    processes.start(WORKER, NOOBLE4_WORKER_CONCURRENCY="1")
    order_key = queues.state_key("echo", "order")
    await eventually(lambda: _length_at_least(redis, order_key, 2 * per_tier), timeout=30, what="all work done")
    order = await redis.lrange(order_key, 0, -1)
    position = {tier: [i for i, t in enumerate(order) if t == tier.value] for tier in (Tier.FREE, Tier.ENTERPRISE)}
    assert len(position[Tier.FREE]) == per_tier  # free work is never starved
    assert mean(position[Tier.ENTERPRISE]) < mean(position[Tier.FREE])
    first_half = order[:per_tier]
    assert first_half.count(Tier.ENTERPRISE.value) >= 0.75 * per_tier  # 8:1 weights while both are queued
    assert first_half.count(Tier.FREE.value) >= 1  # ... and free still gets its share meanwhile


async def _length_at_least(redis, key: str, n: int) -> bool:
    return await redis.llen(key) >= n


async def test_worker_survives_a_redis_restart(tmp_path, test_env, processes) -> None:
    server = EmbeddedRedis(tmp_path / "redis").start()
    processes.env = {**test_env, "NOOBLE4_REDIS_URL": server.url}
    settings = CommonSettings(**{k.removeprefix("NOOBLE4_").lower(): v for k, v in processes.env.items()})
    manager = RedisManager(settings)
    client = BaseRedisClient(manager.client, settings, origin_service="tester")
    worker = processes.start(WORKER)
    try:
        say = lambda text: client.new_action("echo.message.say", tenant_id="t1", data={"text": text})  # noqa: E731
        assert (await client.call_action(say("before"), 15))["text"] == "before"
        server.stop()  # all data is gone: streams, groups, pending entries
        server = EmbeddedRedis(tmp_path / "redis", port=server.port).start()
        assert (await client.call_action(say("after"), 15))["text"] == "after"
        assert worker.poll() is None
    finally:
        await manager.close()
        server.stop()


async def test_sigterm_lets_in_flight_work_finish(client, redis, queues, processes) -> None:
    worker = processes.start(WORKER)
    action = client.new_action("echo.job.hold", tenant_id="t1")
    call = asyncio.create_task(client.send_action_pseudo_sync(action, timeout=30))
    assert await pop(redis, queues.state_key("echo", "started")) == action.action_id
    worker.send_signal(signal.SIGTERM)
    late = client.new_action("echo.message.say", tenant_id="t1", data={"text": "after stop"})
    late_call = asyncio.create_task(client.send_action_pseudo_sync(late, timeout=30))
    await redis.lpush(queues.state_key("echo", "release", action.action_id), "go")
    reply = await call
    assert reply.success and reply.data == {"released": action.action_id}
    assert await asyncio.to_thread(worker.wait, 30) == 0
    # work sent during the drain is finished by the stopping worker or left for the next one
    processes.start(WORKER)
    assert (await late_call).data["text"] == "after stop"
    stream = queues.action_stream("echo", Tier.FREE)
    await eventually(lambda: _nothing_pending(redis, stream), what="everything acknowledged")


async def _nothing_pending(redis, stream: str) -> bool:
    return (await redis.xpending(stream, "echo-workers"))["pending"] == 0


async def test_live_workers_keep_a_short_lived_heartbeat(client, redis, queues, processes) -> None:
    worker = processes.start(WORKER)
    await client.call_action(client.new_action("echo.message.say", tenant_id="t1", data={"text": "hi"}), 15)
    pattern = queues.state_key("echo", "workers", "*")
    keys = await eventually(lambda: _keys(redis, pattern), what="a heartbeat key")
    assert str(worker.pid) in keys[0]
    assert 0 < await redis.pttl(keys[0]) <= 1_000


async def _keys(redis, pattern: str) -> list[str]:
    return [key async for key in redis.scan_iter(match=pattern)]


async def test_a_draining_worker_keeps_its_lease_so_no_replica_steals_its_work(
    client, redis, queues, processes
) -> None:
    """SIGTERM mid-handler: the drain lasts longer than claim_idle_ms (400 ms here), yet a second replica never
    starts the same message, because the draining worker renews its lease until the handler has finished."""
    first = processes.start(WORKER)
    action = client.new_action("echo.job.hold", tenant_id="t1")
    call = asyncio.create_task(client.send_action_pseudo_sync(action, timeout=30))
    started_key = queues.state_key("echo", "started")
    assert await pop(redis, started_key) == action.action_id
    processes.start(WORKER)  # a replica that would reclaim idle work
    first.send_signal(signal.SIGTERM)
    stream = queues.action_stream("echo", Tier.FREE)
    for _ in range(3):  # ~3 claim periods of draining, observed through Redis' own idle times
        await eventually(lambda: _pending_idle_renewed(redis, stream), what="the lease renewed during the drain")
        await asyncio.sleep(0.4)  # one claim_idle_ms: time passing is the condition under test
    assert await redis.llen(started_key) == 0, "another replica started the message during the drain"
    await redis.lpush(queues.state_key("echo", "release", action.action_id), "go")
    reply = await call
    assert reply.success and reply.data == {"released": action.action_id}
    assert await asyncio.to_thread(first.wait, 30) == 0


async def _pending_idle_renewed(redis, stream: str) -> bool:
    entries = await redis.xpending_range(stream, "echo-workers", min="-", max="+", count=10)
    return bool(entries) and all(e["time_since_delivered"] < 400 for e in entries)


async def test_reclaim_takes_no_more_than_the_free_slots(client, redis, queues, processes, test_env) -> None:
    """A replica reclaiming a dead one's backlog starts at most `worker_concurrency` of it at once."""
    dead = processes.start(WORKER)
    actions = [client.new_action("echo.job.hold", tenant_id="t1") for _ in range(12)]
    for action in actions:
        await client.send_action_async(action)
    started_key = queues.state_key("echo", "started")
    await eventually(lambda: _length_at_least(redis, started_key, 12), what="the first replica holding all 12")
    dead.kill()
    await redis.delete(started_key)
    processes.start(WORKER, NOOBLE4_WORKER_CONCURRENCY="3")
    await eventually(lambda: _length_at_least(redis, started_key, 3), what="the survivor reclaiming")
    await asyncio.sleep(1.0)  # several reclaim passes (0.1 s) and claim periods (0.4 s) go by
    assert await redis.llen(started_key) == 3
    for action in actions:
        await redis.lpush(queues.state_key("echo", "release", action.action_id), "go")
    await eventually(lambda: _length_at_least(redis, started_key, 12), what="the rest once slots free up")
