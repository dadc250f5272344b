"""Long-running background tasks that fail loudly: an unexpected exception is logged with its traceback,
counted, and the task is restarted with backoff — never a silent, live-looking zombie."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable

from prometheus_client import Counter

from common.log import get_logger
from common.messaging.backoff import Backoff

log = get_logger(__name__)
TASK_RESTARTS = Counter("nooble4_task_restarts_total", "Background tasks restarted after a failure", ["task"])
STABLE_AFTER_S = 60.0  # a task that ran this long without failing starts its backoff afresh


async def sleep_unless(event: asyncio.Event, seconds: float) -> None:
    """Sleep `seconds`, or less if `event` is set meanwhile (a loop's pause that a stop cuts short)."""
    try:
        async with asyncio.timeout(seconds):
            await event.wait()
    except TimeoutError:
        pass


def supervised(name: str, run: Callable[[], Awaitable[None]], stopping: asyncio.Event) -> asyncio.Task[None]:
    """Start `run()` as a task that is restarted (0.1 s, doubling, at most 10 s) whenever it raises,
    and also if it returns while `stopping` is not set. Cancelling the task stops it."""

    async def keep_running() -> None:
        backoff = Backoff(first_s=0.1, cap_s=10.0)
        loop = asyncio.get_running_loop()
        while not stopping.is_set():
            started = loop.time()
            try:
                await run()
                if stopping.is_set():
                    return
                log.error("task_returned_unexpectedly", task=name)
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                log.error("task_failed", task=name, error=f"{type(exc).__name__}: {exc}", exc_info=exc)
            if loop.time() - started > STABLE_AFTER_S:
                backoff.reset()
            TASK_RESTARTS.labels(name).inc()
            delay = backoff.next_delay()
            log.warning("task_restarting", task=name, retry_in_s=delay)
            await sleep_unless(stopping, delay)

    return asyncio.create_task(keep_running(), name=name)
