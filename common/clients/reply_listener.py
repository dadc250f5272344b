"""One reply listener per process (per Redis client, event loop and origin service) for pseudo-sync calls
(MESSAGING.md §1).

Every call of the process names the same reply list, `nooble4:{env}:{origin}:responses:{listener id}`; one task
pops it on a connection of its own — a blocking BRPOP for one reply, and while more calls are in flight an RPOP
of up to REPLY_BATCH replies pipelined behind it — and resolves each waiting call by its correlation id. So a
process holds one blocking connection however many calls are in flight, and a busy one reads many replies per
round trip: a worker pushes the replies of a batch in one LPUSH, Redis serves the BRPOP one of them, and runs the
RPOP, queued behind it on the same connection, right after, so the rest come in the same round trip. When no
call is waiting, the next read waits until a call has sent its request (or QUIET_S passed), so a lone caller's
request is not held up by the listener's own read.

Callers only ever await a future: a cancelled or timed-out caller never cancels a Redis command (§3). The task
runs while calls are waiting and until the last deadline of the calls it served has passed, so a late reply is
still read and dropped instead of left behind; then it ends, and the next call starts it again. It also ends when
the process closes its Redis client, failing the calls still waiting with RedisClosedError. Replies nobody
takes expire with their list (the worker EXPIREs it with every push, §8).
"""

from __future__ import annotations

import asyncio
import time
import uuid

from redis.asyncio import Redis

from common.clients.loop_local import LoopLocal
from common.log import get_logger
from common.messaging.backoff import REDIS_DOWN, Backoff
from common.messaging.queue_manager import QueueManager
from common.messaging.redis_manager import MAX_BLOCK_S, RedisClosedError, execute_on_own_connection, own_connection
from common.models.actions import DomainActionResponse
from common.tasks import sleep_unless

log = get_logger(__name__)
REPLY_BATCH = 256
IDLE_BLOCK_S = 1.0
QUIET_S = 0.05

_listeners: LoopLocal[ReplyListener] = LoopLocal()


class ReplyListener:
    def __init__(self, redis: Redis, queues: QueueManager, origin: str):
        self.redis = redis
        self.queue = queues.response_queue(origin, uuid.uuid4().hex)
        self._waiting: dict[str, asyncio.Future[DomainActionResponse]] = {}
        self._listen_until = 0.0
        self._request_sent = asyncio.Event()
        self._task: asyncio.Task[None] | None = None

    def expect(self, correlation_id: str, timeout: float) -> asyncio.Future[DomainActionResponse]:
        """A future for the reply to `correlation_id`; the listener runs at least `timeout` seconds more."""
        future = asyncio.get_running_loop().create_future()
        self._waiting[correlation_id] = future
        self._listen_until = max(self._listen_until, time.monotonic() + timeout)
        if self._task is None or self._task.done():
            self._task = asyncio.create_task(self._listen(), name=f"replies:{self.queue}")
        return future

    def request_sent(self) -> None:
        """A call registered with `expect` has sent its request: its reply may come now."""
        self._request_sent.set()

    def forget(self, correlation_id: str) -> None:
        """The caller stopped waiting (answered, timed out or cancelled)."""
        self._waiting.pop(correlation_id, None)

    async def _listen(self) -> None:
        async with own_connection(self.redis) as reader:
            await self._listen_on(reader)

    async def _listen_on(self, reader: Redis) -> None:
        backoff = Backoff()
        while self._waiting or time.monotonic() < self._listen_until:
            if not self._waiting:  # read once the next call's request is out (late replies: after QUIET_S)
                self._request_sent.clear()
                await sleep_unless(self._request_sent, QUIET_S)
            try:
                replies = await self._pop(reader)
                backoff.reset()
            except RedisClosedError as exc:  # the process closed the client: no reply can come any more
                self._fail_waiting(exc)
                return
            except REDIS_DOWN as exc:  # the waiting callers time out on their own; the listener keeps trying
                await backoff.wait(exc, "reply_listener_redis_unavailable", waiting=len(self._waiting))
                continue
            except Exception:  # never die silently with callers waiting: they would all time out
                log.exception("reply_listener_failed", queue=self.queue)
                await asyncio.sleep(0.1)
                continue
            for raw in replies:
                self._resolve(raw)

    async def _pop(self, reader: Redis) -> list[str]:
        """The replies waiting, blocking (server-side) while there is none: one while at most one call waits, else
        up to 1 + REPLY_BATCH in one round trip."""
        block = min(MAX_BLOCK_S, IDLE_BLOCK_S, max(0.01, self._listen_until - time.monotonic()))
        if len(self._waiting) <= 1:
            popped = await reader.brpop([self.queue], timeout=block)  # type: ignore[misc]  # async client
            return [popped[1]] if popped else []
        pipe = reader.pipeline(transaction=False)
        pipe.brpop([self.queue], timeout=block)
        pipe.rpop(self.queue, REPLY_BATCH)
        popped, rest = await execute_on_own_connection(reader, pipe)
        return ([popped[1]] if popped else []) + list(rest or [])  # a reply may come between a timeout and the RPOP

    def _fail_waiting(self, error: Exception) -> None:
        waiting, self._waiting = self._waiting, {}
        for future in waiting.values():
            if not future.done():
                future.set_exception(error)

    def _resolve(self, raw: str) -> None:
        try:
            response = DomainActionResponse.model_validate_json(raw)
        except ValueError:
            log.error("reply_unreadable", queue=self.queue, size=len(raw))
            return
        future = self._waiting.pop(response.correlation_id, None)
        if future is None:
            log.debug("reply_after_caller_left", correlation_id=response.correlation_id)
        elif not future.done():
            future.set_result(response)


def reply_listener(redis: Redis, queues: QueueManager, origin: str) -> ReplyListener:
    """The listener of this event loop for replies to `origin`'s calls through `redis`."""
    return _listeners.get(redis, origin, lambda: ReplyListener(redis, queues, origin))
