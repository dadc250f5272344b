"""A real worker process for the messaging tests: `python -m tests.support.echo_worker`.

It runs through `common.service.serve` exactly like a service (signals, graceful stop), with
handlers whose side effects the tests observe in Redis. Keys come from QueueManager.state_key.
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any

from pydantic import BaseModel
from redis.asyncio import Redis

from common.contracts.contract import call
from common.errors import NotFoundError
from common.log import configure_logging
from common.messaging import QueueManager, RedisManager
from common.models.actions import DomainAction, ErrorDetail
from common.service import ServiceSpec, serve
from common.settings import CommonSettings
from common.workers.router import ActionRouter
from tests.support.contracts import Loose, loose_call, loose_job, loose_send

DOMAIN = "echo"
router: ActionRouter[Any] = ActionRouter()


@dataclass
class EchoDeps:
    redis: Redis
    queues: QueueManager

    def key(self, *parts: str) -> str:
        return self.queues.state_key(DOMAIN, *parts)


class SayRequest(BaseModel):
    text: str


class Said(BaseModel):
    text: str
    pid: str


SAY = call("echo.message.say", SayRequest, Said)


@router.handle(SAY)
async def say(action: DomainAction, req: SayRequest, deps: EchoDeps) -> Said:
    return Said(text=req.text, pid=str(os.getpid()))


@router.handle(loose_send("echo.message.missing"))
async def missing(action: DomainAction, data: Loose, deps: EchoDeps) -> None:
    raise NotFoundError("there is nothing here", code="echo_missing")


@router.handle(loose_call("echo.job.apply"))
async def apply(action: DomainAction, data: Loose, deps: EchoDeps) -> Loose:
    """Idempotent by action_id: the counter moves once however often the action is delivered."""
    if await deps.redis.set(deps.key("effect", action.action_id), "1", nx=True):
        await deps.redis.incr(deps.key("counter"))
    await deps.redis.lpush(deps.key("started"), action.action_id)
    if os.environ.get("ECHO_HANG_ON_APPLY") == "1":
        await asyncio.Event().wait()  # this process is about to be SIGKILLed mid-handler
    return Loose.of(count=int(await deps.redis.get(deps.key("counter")) or 0))


@router.handle(loose_send("echo.job.fail"))
async def fail(action: DomainAction, data: Loose, deps: EchoDeps) -> None:
    """A transient failure that never passes (a dependency that stays down): retried, then dead-lettered."""
    await deps.redis.incr(deps.key("attempts", action.action_id))
    raise ConnectionError("boom: the dependency this message needs is always down")


async def record_given_up(action: DomainAction, error: ErrorDetail, deps: EchoDeps) -> None:
    await deps.redis.rpush(deps.key("given_up", action.action_id), error.error_code)


@router.handle(loose_send("echo.job.bug"), on_failure=record_given_up)
async def bug(action: DomainAction, data: Loose, deps: EchoDeps) -> None:
    """A deterministic failure (a bug, data the store refuses): no retry would help."""
    await deps.redis.incr(deps.key("attempts", action.action_id))
    raise KeyError("boom: a deterministic failure")


@router.handle(loose_send("echo.job.record"))
async def record(action: DomainAction, data: Loose, deps: EchoDeps) -> None:
    await deps.redis.rpush(deps.key("order"), action.tenant_tier.value)
    await asyncio.sleep(float(data.get("work_s", 0.002)))  # stands for the work itself


@router.handle(loose_call("echo.job.hold"))
async def hold(action: DomainAction, data: Loose, deps: EchoDeps) -> Loose:
    """Signals that it started, then waits until the test releases it."""
    await deps.redis.lpush(deps.key("started"), action.action_id)
    while await deps.redis.blpop([deps.key("release", action.action_id)], timeout=1) is None:
        pass
    return Loose.of(released=action.action_id)


@router.handle(loose_job("echo.job.callback"))
async def callback(action: DomainAction, data: Loose, deps: EchoDeps) -> Loose:
    return Loose.of(done=data.get("what", ""))


@asynccontextmanager
async def open_echo_deps(settings: CommonSettings) -> AsyncIterator[EchoDeps]:
    manager = RedisManager(settings)
    try:
        yield EchoDeps(manager.client, QueueManager(settings.environment))
    finally:
        await manager.close()


SPEC = ServiceSpec(
    name="echo_worker",
    domain=DOMAIN,
    title="echo",
    settings_class=CommonSettings,
    router=router,
    open_deps=open_echo_deps,
)

if __name__ == "__main__":
    settings = CommonSettings()
    configure_logging(settings.log_level, settings.log_json, SPEC.name)
    asyncio.run(serve(SPEC, settings, only="worker"))
