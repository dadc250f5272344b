"""Background tasks fail loudly and come back: a consumer loop that raises is restarted (never a zombie), and
a callback consumer survives a Redis restart in the middle of a batch without losing a callback."""

from __future__ import annotations

import asyncio
import signal
from typing import Any

import pytest
from redis.exceptions import ResponseError

from common.clients import BaseRedisClient
from common.launcher.embedded import EmbeddedRedis
from common.messaging import RedisManager
from common.models.actions import DomainAction
from common.settings import CommonSettings
from common.tasks import TASK_RESTARTS, supervised
from common.workers.base_worker import BaseWorker
from common.workers.callback_consumer import CallbackConsumer
from common.workers.router import ActionRouter
from tests.support.contracts import Loose, loose_call, loose_callback
from tests.support.helpers import eventually


async def test_a_task_that_raises_is_logged_and_restarted(capsys: pytest.CaptureFixture[str]) -> None:
    runs: list[int] = []
    stopping = asyncio.Event()

    async def flaky() -> None:
        runs.append(len(runs))
        if len(runs) < 3:
            raise RuntimeError(f"failure number {len(runs)}")
        await stopping.wait()

    before = TASK_RESTARTS.labels("flaky")._value.get()
    task = supervised("flaky", flaky, stopping)
    await eventually(lambda: _true(len(runs) == 3), what="two restarts")
    assert not task.done() and TASK_RESTARTS.labels("flaky")._value.get() - before == 2
    stopping.set()
    await task
    logged = capsys.readouterr().out
    assert "task_failed" in logged and "failure number 2" in logged and "Traceback" in logged


async def _true(value: bool) -> bool:
    return value


async def test_a_worker_whose_read_loop_fails_keeps_serving(redis, settings) -> None:
    """A non-NOGROUP ResponseError used to end the consumer loop silently while the heartbeat said alive."""
    router: ActionRouter[Any] = ActionRouter()

    @router.handle(loose_call("probe.value.echo"))
    async def echo(action: DomainAction, data: Loose, deps: object) -> Loose:
        return data

    worker = BaseWorker(redis=redis, settings=settings, domain="probe", router=router, deps=None)
    original = worker._read
    failures = 0

    async def read_failing_twice(*args, **kwargs):
        nonlocal failures
        if failures < 2:
            failures += 1
            raise ResponseError("WRONGTYPE Operation against a key holding the wrong kind of value")
        return await original(*args, **kwargs)

    worker._read = read_failing_twice  # type: ignore[method-assign]
    running = asyncio.create_task(worker.run())
    try:
        client = BaseRedisClient(redis, settings, "tester")
        reply = await client.call_action(
            client.new_action("probe.value.echo", tenant_id="t1", data={"v": 1}), timeout=15
        )
        assert reply == {"v": 1} and failures == 2
    finally:
        worker.stop()
        await running


async def test_callback_consumer_survives_a_redis_restart_mid_batch(tmp_path, test_env) -> None:
    server = EmbeddedRedis(tmp_path / "redis").start()  # durable (AOF), like the one `nooble4 up` runs
    settings = CommonSettings(
        **{k.removeprefix("NOOBLE4_").lower(): v for k, v in test_env.items()} | {"redis_url": server.url}
    )
    manager = RedisManager(settings)
    redis = manager.client
    seen: list[str] = []
    gate = asyncio.Event()

    async def handle(action: DomainAction, data: Loose, deps: object) -> None:
        if data.get("n") == "2" and not gate.is_set():
            gate.set()
            restart_redis()  # Redis dies while this batch is being handled
        seen.append(data.get("n"))

    def restart_redis() -> None:
        nonlocal server
        assert server.process is not None
        server.process.send_signal(signal.SIGKILL)
        server.process.wait()
        server = EmbeddedRedis(tmp_path / "redis", port=server.port).start()

    router: ActionRouter[Any] = ActionRouter()
    router.add(loose_callback("tester.event.done"), handle)
    queue = f"{settings.environment}:callbacks"
    consumer = CallbackConsumer(redis=redis, settings=settings, queue=queue, consumer="c1", router=router, deps=None)
    client = BaseRedisClient(redis, settings, "tester")
    for n in range(1, 6):
        callback = client.new_action("tester.event.done", tenant_id="t1", data={"n": str(n)})
        await redis.lpush(queue, callback.model_dump_json())
    task = consumer.start()
    try:
        await eventually(lambda: _true(set(seen) >= {"1", "2", "3", "4", "5"}), timeout=30, what="every callback")
        assert not task.done()
        late = client.new_action("tester.event.done", tenant_id="t1", data={"n": "6"})
        await redis.lpush(queue, late.model_dump_json())
        await eventually(lambda: _true("6" in seen), timeout=15, what="a callback sent after the restart")
    finally:
        consumer.stop()
        await task
        await manager.close()
        server.stop()
    assert [int(n) for n in dict.fromkeys(seen)] == [1, 2, 3, 4, 5, 6]  # in order (a re-handled batch repeats)
