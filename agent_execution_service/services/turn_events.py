"""Streams a turn's events back to the orchestrator and notices when the turn is cancelled.

Tokens are coalesced: the first one is written at once (awaited by the model's loop), later ones at
most every `flush_interval_s`, so a long answer is tens of Redis writes, not thousands. Every write
also asks whether the turn was cancelled (`execution.task.cancel` sets a flag), so cancelling costs
no extra round trips while tokens flow; when none flow, the flag is polled every
`cancel_poll_interval_s`.
"""

from __future__ import annotations

import asyncio
from typing import Any

from redis.asyncio import Redis

from common import metrics
from common.contracts.orchestrator import ChatEventCallback
from common.handlers.callback_handlers import CallbackSenderHandler
from common.log import get_logger
from common.messaging.queue_manager import QueueManager
from common.models.actions import DomainAction, utc_now
from common.models.chat import Token

log = get_logger(__name__)
CANCEL_FLAG_TTL_S = 3600


def cancel_flag_key(queues: QueueManager, task_id: str) -> str:
    return queues.state_key("execution", "cancelled", task_id)


async def request_cancel(redis: Redis, queues: QueueManager, task_id: str) -> None:
    await redis.set(cancel_flag_key(queues, task_id), "1", ex=CANCEL_FLAG_TTL_S)


class TurnEvents:
    def __init__(
        self,
        sender: CallbackSenderHandler,
        action: DomainAction,
        *,
        flush_interval_s: float,
        cancel_poll_interval_s: float,
    ):
        self.sender = sender
        self.action = action
        self.task_id = action.task_id or action.action_id
        self.flush_interval_s = flush_interval_s
        self.cancel_poll_interval_s = cancel_poll_interval_s
        self.cancel_key = cancel_flag_key(sender.queues, self.task_id)
        self.cancelled = asyncio.Event()
        # (attempt, n) number every event: the orchestrator logs each once, and knows a re-run from a replay
        self.attempt = int(action.metadata.get("delivery_count", 1))
        self._sent = 0
        self._tokens: list[str] = []
        self._first_token_written = False
        self._has_tokens = asyncio.Event()
        self._write_lock = asyncio.Lock()
        self._pump: asyncio.Task[None] | None = None
        self._stopping = asyncio.Event()

    async def __aenter__(self) -> TurnEvents:
        self._pump = asyncio.create_task(self._run_pump())
        return self

    async def __aexit__(self, *exc: object) -> None:
        self._stopping.set()  # not cancelled: a cancelled Redis call can leave its connection unusable
        self._has_tokens.set()
        if self._pump:
            await self._pump
        if self._tokens:  # the turn is over: no round trip only to ask whether it was cancelled
            await self.flush()

    async def token(self, delta: str) -> None:
        """Buffer `delta` for the pump; the turn's first token is written at once, before the model goes on (a
        model that streams without pausing would otherwise hold it until its loop yields)."""
        if not delta:
            return
        self._tokens.append(delta)
        if self._first_token_written:
            self._has_tokens.set()
            return
        self._first_token_written = True
        metrics.FIRST_TOKEN.labels(self.action.tenant_tier.value).observe(
            max(0.0, (utc_now() - self.action.timestamp).total_seconds())
        )
        try:
            await self.flush()
        except Exception as exc:  # the token stays buffered: the pump writes it with its next flush
            log.warning("turn_event_flush_failed", task_id=self.task_id, error=str(exc))

    async def emit(self, event: Any) -> None:
        """Send `event` now, after any tokens still buffered, so order is kept."""
        await self._write([event])

    async def flush(self) -> None:
        await self._write([])

    async def _write(self, events: list[Any]) -> None:
        async with self._write_lock:
            pending = len(self._tokens)
            if pending:
                events = [Token(task_id=self.task_id, delta="".join(self._tokens[:pending])), *events]
            self._has_tokens.clear()
            try:
                async with self.sender.redis.pipeline(transaction=False) as pipe:
                    for n, event in enumerate(events, start=self._sent + 1):
                        callback = ChatEventCallback(task_id=self.task_id, event=event, attempt=self.attempt, n=n)
                        self.sender.queue_callback(pipe, self.action, callback)
                    pipe.exists(self.cancel_key)
                    replies = await pipe.execute()
            except BaseException:
                if pending:
                    self._has_tokens.set()  # the tokens stay buffered for the next flush
                raise
            del self._tokens[:pending]
            self._sent += len(events)
            if replies[-1]:
                self.cancelled.set()

    async def _run_pump(self) -> None:
        loop = asyncio.get_running_loop()
        while not self._stopping.is_set():
            try:
                async with asyncio.timeout(self.cancel_poll_interval_s):
                    await self._has_tokens.wait()
            except TimeoutError:
                pass
            if self._stopping.is_set():
                return
            started = loop.time()
            try:
                await self.flush()
            except Exception as exc:  # a failed write is retried with the next flush
                log.warning("turn_event_flush_failed", task_id=self.task_id, error=str(exc))
            try:  # coalescing window; ends early when the turn is over
                async with asyncio.timeout(max(0.0, self.flush_interval_s - (loop.time() - started))):
                    await self._stopping.wait()
            except TimeoutError:
                pass
