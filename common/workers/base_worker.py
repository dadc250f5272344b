"""Consumes a domain's tier streams and runs the registered handlers (DESIGN.md §3-4, MESSAGING.md).

Every outcome is explicit: success -> reply/callback then XACK (one pipeline); invalid message ->
typed error reply + dead letter + XACK; retryable failure -> left pending, reclaimed later, and
dead-lettered once its handler has failed `max_deliveries` times. Deliveries that ended with no outcome at all
(the consumer died mid-handler) are not failures of the message: it is given up as poison only after
`max_deliveries_without_outcome` deliveries.
"""

from __future__ import annotations

import asyncio
import functools
import os
import random
import socket
import time
from dataclasses import dataclass, field
from typing import Any, Generic

from pydantic import ValidationError as PydanticValidationError
from redis.asyncio import Redis
from redis.exceptions import ResponseError

from common import metrics, tracing
from common.errors import NoobleError, ValidationError, as_nooble_error
from common.log import bound_action, get_logger
from common.messaging.backoff import REDIS_DOWN, Backoff
from common.messaging.codec import ACTION_FIELD, decode_action, salvage_envelope
from common.messaging.queue_manager import QueueManager
from common.messaging.redis_manager import MAX_BLOCK_S, execute_on_own_connection, own_connection
from common.messaging.replies import queue_reply, queue_salvaged_error
from common.models.actions import DomainAction, ErrorDetail, utc_now
from common.models.tiers import Tier
from common.settings import CommonSettings
from common.tasks import sleep_unless, supervised
from common.tenancy import enter_tenant
from common.workers.outbox import CommandBuffer, Outbox
from common.workers.router import ActionRouter, D, result_to_dict
from common.workers.tier_scheduler import TierScheduler

log = get_logger(__name__)
RECLAIM_SCAN = 100  # pending entries looked at per stream and pass
BATCH_MEMORY = 8  # reads of at most one message each after which a consumer stops expecting batches


@dataclass(frozen=True)
class Delivery:
    stream: str
    message_id: str
    fields: dict[str, str]
    delivery_count: int
    consumer: str


@dataclass
class ReadState:
    """Per consumer: the tier scheduler, whether the last read suggests a backlog, and how many reads ago one
    returned several messages (a sign of callers sending batches)."""

    scheduler: TierScheduler = field(default_factory=TierScheduler)
    backlog: bool = True
    reads_since_batch: int = BATCH_MEMORY


def _failure_field(delivery: Delivery) -> str:
    return f"{delivery.stream}:{delivery.message_id}"


def raw_of(delivery: Delivery) -> str | None:
    return delivery.fields.get(ACTION_FIELD)


class InvalidMessage(Exception):
    """The message itself is wrong: reply with the error, dead-letter it, never retry."""

    def __init__(self, error: NoobleError, action: DomainAction | None = None):
        super().__init__(error.message)
        self.error = error
        self.action = action


class BaseWorker(Generic[D]):
    def __init__(
        self,
        *,
        redis: Redis,
        settings: CommonSettings,
        domain: str,
        router: ActionRouter[D],
        deps: D,
        service_name: str | None = None,
    ):
        self.redis = redis
        self.settings = settings
        self.domain = domain
        self.router = router
        self.deps = deps
        self.service_name = service_name or settings.service_name
        self.queues = QueueManager(settings.environment)
        self.group = self.queues.consumer_group(domain)
        self.streams = self.queues.action_streams(domain)
        self.dead_letters = self.queues.dead_letter_stream(domain)
        self.failures = self.queues.state_key(domain, "failures")  # message id -> failed handler attempts
        base = f"{self.service_name}-{socket.gethostname()}-{os.getpid()}"
        self.consumers = [f"{base}-{n}" for n in range(settings.worker_consumers)]
        self._stopping = asyncio.Event()
        self._drained = asyncio.Event()  # set once in-flight work has ended: lease renewal may stop
        self._in_flight: dict[tuple[str, str], asyncio.Task[None]] = {}
        self._slot_free = asyncio.Event()
        self._tasks: list[asyncio.Task[None]] = []
        self._outbox = Outbox(redis)
        self.metrics = metrics.ActionMetrics(self.service_name)
        # read at scrape time: no per-message cost
        metrics.IN_FLIGHT.labels(self.service_name).set_function(lambda: len(self._in_flight))

    # ------------------------------------------------------------------ lifecycle
    async def run(self) -> None:
        """Run until `stop()`; then finish in-flight work within the grace period."""
        await self._with_reconnect(self.ensure_groups)
        self._tasks = [
            supervised(f"consume:{name}", functools.partial(self._consume, name), self._stopping)
            for name in self.consumers
        ]
        self._tasks.append(supervised(f"janitor:{self.domain}", self._janitor, self._stopping))
        self._tasks.append(supervised(f"leases:{self.domain}", self._lease_keeper, self._drained))
        log.info("worker_started", domain=self.domain, consumers=self.consumers)
        try:
            await self._stopping.wait()
        finally:
            await self._shutdown()

    def stop(self) -> None:
        self._stopping.set()

    async def _shutdown(self) -> None:
        """Stop reading; let in-flight work finish within the grace period while its leases keep being
        renewed (so no other replica steals it); cancel what is left (it stays pending for a reclaim)."""
        self._stopping.set()
        readers, lease_keeper = self._tasks[:-1], self._tasks[-1]
        await asyncio.gather(*readers, return_exceptions=True)
        pending = list(self._in_flight.values())
        if pending:
            log.info("worker_draining", in_flight=len(pending))
            _, late = await asyncio.wait(pending, timeout=self.settings.shutdown_grace_s)
            for task in late:  # left pending in Redis: another consumer reclaims it
                task.cancel()
            await asyncio.gather(*late, return_exceptions=True)
        self._drained.set()
        lease_keeper.cancel()
        await asyncio.gather(lease_keeper, return_exceptions=True)
        await self._outbox.close()
        log.info("worker_stopped", domain=self.domain)

    async def ensure_groups(self) -> None:
        for stream in self.streams.values():
            try:
                await self.redis.xgroup_create(stream, self.group, id="0", mkstream=True)
            except ResponseError as exc:
                if "BUSYGROUP" not in str(exc):
                    raise

    async def _with_reconnect(self, operation: Any) -> Any:
        """Retry `operation` with capped exponential backoff while Redis is unreachable."""
        backoff = Backoff()
        while True:
            try:
                return await operation()
            except REDIS_DOWN as exc:
                if self._stopping.is_set():
                    raise
                await self._wait_for_redis(backoff, exc)

    async def _wait_for_redis(self, backoff: Backoff, exc: BaseException) -> None:
        delay = backoff.next_delay()
        log.warning("redis_unavailable", error=str(exc), retry_in_s=delay)
        await self._sleep_unless_stopping(delay)

    async def _sleep_unless_stopping(self, seconds: float) -> None:
        await sleep_unless(self._stopping, seconds)

    # ------------------------------------------------------------------ reading
    async def _consume(self, consumer: str) -> None:
        async with own_connection(self.redis) as reader:
            await self._consume_on(reader, consumer)

    async def _consume_on(self, reader: Redis, consumer: str) -> None:
        state = ReadState()
        backoff = Backoff()
        while not self._stopping.is_set():
            free = self.settings.worker_concurrency - len(self._in_flight)
            if free <= 0:
                self._slot_free.clear()
                await self._slot_free.wait()
                continue
            try:
                deliveries = await self._read(reader, consumer, state, min(free, self.settings.worker_read_batch))
                backoff.reset()
            except REDIS_DOWN as exc:
                await self._wait_for_redis(backoff, exc)
                continue
            except ResponseError as exc:
                if "NOGROUP" not in str(exc):
                    raise
                await self._with_reconnect(self.ensure_groups)  # Redis lost its data (restart)
                continue
            for delivery in deliveries:
                self._start(delivery)
            if deliveries:  # the handlers just started take their first step before the next read is sent
                await asyncio.sleep(0)

    async def _read(self, reader: Redis, consumer: str, state: ReadState, slots: int) -> list[Delivery]:
        """Weighted reads while the streams have a backlog; a blocking read on every tier otherwise.

        Under saturation each pass splits the free slots among the tiers not yet seen drained, so
        reads follow the 8:4:2:1 weights and a lone busy tier still fills every slot. Once the
        streams are drained, a blocking XREADGROUP serves new work with no extra round trip.
        """
        deliveries: list[Delivery] = []
        if state.backlog:
            deliveries, state.backlog = await self._read_weighted(consumer, state.scheduler, slots)
        if not deliveries and not self._stopping.is_set():
            deliveries = await self._read_blocking(reader, consumer, state, max(1, slots // len(self.streams)))
        state.reads_since_batch = 0 if len(deliveries) > 1 else min(state.reads_since_batch + 1, BATCH_MEMORY)
        return deliveries

    async def _read_blocking(self, reader: Redis, consumer: str, state: ReadState, per_stream: int) -> list[Delivery]:
        """Up to `per_stream` new messages of each tier, waiting (server-side) until there is one.

        Callers send their actions in pipelines, and Redis serves a blocked read as soon as the first XADD
        of a pipeline has run, with that one entry. So while callers send batches, the blocking read takes
        one entry per tier and a non-blocking read of the rest of the slots is pipelined behind it: Redis
        runs it right after serving the first, once the rest of the callers' pipeline is in, and the batch
        arrives in one round trip instead of one entry now and the rest a round trip later.
        """
        every_tier: dict[Any, Any] = dict.fromkeys(self.streams.values(), ">")
        block = min(self.settings.worker_block_ms, int(MAX_BLOCK_S * 1000))
        if state.reads_since_batch >= BATCH_MEMORY or per_stream == 1:
            reply = await reader.xreadgroup(self.group, consumer, every_tier, count=per_stream, block=block)
            state.backlog = any(len(entries) == per_stream for _, entries in reply or [])
            return self._deliveries(reply, consumer)
        pipe = reader.pipeline(transaction=False)
        pipe.xreadgroup(self.group, consumer, every_tier, count=1, block=block)
        pipe.xreadgroup(self.group, consumer, every_tier, count=per_stream - 1)
        first, rest = await execute_on_own_connection(reader, pipe)
        state.backlog = any(len(entries) == per_stream - 1 for _, entries in rest or [])
        return self._deliveries(first, consumer) + self._deliveries(rest, consumer)

    async def _read_weighted(self, consumer: str, scheduler: TierScheduler, slots: int) -> tuple[list[Delivery], bool]:
        """Non-blocking weighted passes; also says whether some tier may still hold more."""
        got: dict[Tier, list[Delivery]] = {tier: [] for tier in self.streams}
        candidates = list(self.streams)
        left = slots
        while left > 0 and candidates:
            shares = scheduler.allocate(left, candidates)
            read = await self._read_shares(consumer, shares)
            for tier, items in read.items():
                got[tier].extend(items)
                if len(items) < shares[tier]:
                    candidates.remove(tier)  # drained for now
            left = slots - sum(len(items) for items in got.values())
        return [d for tier in self.streams for d in got[tier]], bool(candidates)

    async def _read_shares(self, consumer: str, shares: dict[Tier, int]) -> dict[Tier, list[Delivery]]:
        """One round trip: a non-blocking XREADGROUP per tier with a share (only those appear)."""
        wanted = [(tier, n) for tier, n in shares.items() if n > 0]
        async with self.redis.pipeline(transaction=False) as pipe:
            for tier, n in wanted:
                pipe.xreadgroup(self.group, consumer, {self.streams[tier]: ">"}, count=n)
            replies = await pipe.execute()
        return {tier: self._deliveries(reply, consumer) for (tier, _), reply in zip(wanted, replies, strict=True)}

    @staticmethod
    def _deliveries(reply: Any, consumer: str) -> list[Delivery]:
        return [
            Delivery(stream, message_id, fields or {}, 1, consumer)
            for stream, entries in (reply or [])
            for message_id, fields in entries
        ]

    # ------------------------------------------------------------------ processing
    def _start(self, delivery: Delivery) -> None:
        key = (delivery.stream, delivery.message_id)
        if key in self._in_flight:
            return
        task = asyncio.create_task(self._process(delivery))
        self._in_flight[key] = task

        def done(_: asyncio.Task[None]) -> None:
            self._in_flight.pop(key, None)
            self._slot_free.set()

        task.add_done_callback(done)

    async def _process(self, delivery: Delivery) -> None:
        raw = raw_of(delivery)
        try:
            action = decode_action(raw, self.settings.max_message_bytes)
        except ValidationError as error:
            await self._reject(delivery, InvalidMessage(error), raw)
            return
        with bound_action(action), tracing.action_span(action, delivery.delivery_count):
            await self._process_action(delivery, action, raw)

    async def _process_action(self, delivery: Delivery, action: DomainAction, raw: str | None) -> None:
        if action.is_expired():
            log.warning("action_expired_skipped", deadline=action.deadline.isoformat() if action.deadline else None)
            self.metrics.outcome(action.action_type, "expired")
            await self._finish(delivery, action, None, None, reply=False)
            return
        started = time.perf_counter()
        try:
            route = self.router.get(action.action_type)
            if route is None:
                raise InvalidMessage(
                    ValidationError(f"unknown action type {action.action_type!r}", code="unknown_action"), action
                )
            try:
                payload = route.parse(action.data)
            except PydanticValidationError as exc:
                raise InvalidMessage(
                    ValidationError(
                        f"invalid data for {action.action_type}",
                        code="invalid_payload",
                        details={"errors": exc.errors(include_url=False, include_context=False, include_input=False)},
                    ),
                    action,
                ) from None
            action.metadata["delivery_count"] = delivery.delivery_count  # 1 first; a handler may act on its last try
            enter_tenant(action.tenant_id)  # this task's database work sees only the action's tenant's rows
            result = result_to_dict(await route.handler(action, payload, self.deps))
        except InvalidMessage as invalid:
            await self._reject(delivery, invalid, raw)
            return
        except asyncio.CancelledError:
            raise  # shutdown past the grace period: the message stays pending for another consumer
        except Exception as exc:
            await self._handler_failed(delivery, action, raw, as_nooble_error(exc), exc)
            return
        finally:
            self.metrics.latency(action.action_type, time.perf_counter() - started)
        self.metrics.outcome(action.action_type, "success")
        await self._finish(delivery, action, result, None)

    async def _handler_failed(
        self, delivery: Delivery, action: DomainAction, raw: str | None, error: NoobleError, exc: Exception
    ) -> None:
        metrics.ERRORS.labels(self.service_name, error.error_type.value).inc()
        if not error.retryable:  # business outcomes and deterministic failures: answer and ack, no retry
            if error.error_type.value == "internal_error":
                log.error("action_failed", error=error.message, exc_info=exc)
            self.metrics.outcome(action.action_type, "error")
            await self._given_up(action, error.to_detail())
            await self._finish(delivery, action, None, error.to_detail())
            return
        failed = await self.redis.hincrby(self.failures, _failure_field(delivery), 1)  # type: ignore[misc]
        if failed < self.settings.max_deliveries:
            log.warning("action_failed_will_retry", error=error.message, attempt=failed, exc_info=exc)
            self.metrics.outcome(action.action_type, "retry")
            return  # stays pending: reclaimed after claim_idle_ms
        log.error("action_failed_dead_lettered", error=error.message, delivery=delivery.delivery_count, exc_info=exc)
        self.metrics.outcome(action.action_type, "dead_letter")
        await self._given_up(action, error.to_detail())
        await self._finish(delivery, action, None, error.to_detail(), dead_letter_raw=raw)

    async def _given_up(self, action: DomainAction, error: ErrorDetail) -> None:
        """Run the action type's failure handler (its domain object ends failed); never raises."""
        route = self.router.get(action.action_type)
        if route is None or route.on_failure is None:
            return
        try:
            await route.on_failure(action, error, self.deps)
        except Exception as exc:
            log.error("failure_handler_failed", action_type=action.action_type, error=str(exc), exc_info=exc)

    async def _reject(self, delivery: Delivery, invalid: InvalidMessage, raw: str | None) -> None:
        detail = invalid.error.to_detail()
        log.warning(
            "message_rejected",
            error_code=detail.error_code,
            reason=detail.message,
            stream=delivery.stream,
            message_id=delivery.message_id,
        )
        metrics.ERRORS.labels(self.service_name, detail.error_type.value).inc()
        self.metrics.outcome(invalid.action.action_type if invalid.action else "malformed", "rejected")
        if invalid.action is not None:
            await self._given_up(invalid.action, detail)
            await self._finish(delivery, invalid.action, None, detail, dead_letter_raw=raw)
            return

        buffer = CommandBuffer()
        queue_salvaged_error(buffer, self.queues, salvage_envelope(raw), detail, reply_ttl_s=self.settings.reply_ttl_s)
        self._queue_dead_letter(buffer, delivery, raw, detail)
        buffer.xack(delivery.stream, self.group, delivery.message_id)
        await self._send_ending(buffer)

    async def _finish(
        self,
        delivery: Delivery,
        action: DomainAction,
        data: dict[str, Any] | None,
        error: ErrorDetail | None,
        *,
        reply: bool = True,
        dead_letter_raw: str | None = None,
    ) -> None:
        """Reply or call back, dead-letter if asked, then XACK: in that order, through the outbox."""
        late = action.is_expired() and not action.callback_action_type  # pseudo-sync caller gave up
        buffer = CommandBuffer()
        try:
            if reply and not late:
                queue_reply(
                    buffer,
                    self.queues,
                    action,
                    data,
                    error,
                    origin_service=self.domain,
                    reply_ttl_s=self.settings.reply_ttl_s,
                    max_bytes=self.settings.max_message_bytes,
                )
        except NoobleError as exc:  # e.g. the result itself is too large to send
            if data is None:
                raise
            await self._finish(delivery, action, None, exc.to_detail(), dead_letter_raw=raw_of(delivery))
            return
        if dead_letter_raw is not None:
            self._queue_dead_letter(buffer, delivery, dead_letter_raw, error)
        if delivery.delivery_count > 1 or dead_letter_raw is not None:  # forget its failed attempts, if any
            buffer.hdel(self.failures, _failure_field(delivery))
        buffer.xack(delivery.stream, self.group, delivery.message_id)
        await self._send_ending(buffer)

    async def _send_ending(self, buffer: CommandBuffer) -> None:
        """Through the outbox; the only message being handled needs no batch to join."""
        await self._outbox.send(buffer, alone=len(self._in_flight) <= 1)

    def _queue_dead_letter(
        self, buffer: CommandBuffer, delivery: Delivery, raw: str | None, error: ErrorDetail | None
    ) -> None:
        buffer.xadd(
            self.dead_letters,
            {
                "action": raw or "",
                "stream": delivery.stream,
                "message_id": delivery.message_id,
                "delivery_count": str(delivery.delivery_count),
                "consumer": delivery.consumer,
                "error": error.model_dump_json(exclude_none=True) if error else "",
                "failed_at": utc_now().isoformat(),
            },
            maxlen=self.settings.stream_maxlen,
            approximate=True,
        )
        metrics.DEAD_LETTERS.labels(self.service_name).inc()

    # ------------------------------------------------------------------ janitor
    async def _janitor(self) -> None:
        """Heartbeat, reclaim idle pending entries, forget dead consumers, export stream gauges.
        Anything but Redis being down (or having lost its groups) raises: the task is restarted loudly."""
        while not self._stopping.is_set():
            await self._sleep_unless_stopping(self.settings.reclaim_interval_s)
            if self._stopping.is_set():
                return
            try:
                await self.janitor_pass()
            except REDIS_DOWN as exc:
                log.warning("janitor_redis_unavailable", error=str(exc))
            except ResponseError as exc:
                if "NOGROUP" not in str(exc):
                    raise
                await self._with_reconnect(self.ensure_groups)

    async def _lease_keeper(self) -> None:
        """Renew the leases of running work every `reclaim_interval_s`, until the drain has ended."""
        while not self._drained.is_set():
            try:
                await self._renew_leases()
            except REDIS_DOWN as exc:
                log.warning("lease_renewal_redis_unavailable", error=str(exc))
            await sleep_unless(self._drained, self.settings.reclaim_interval_s)

    async def janitor_pass(self) -> None:
        await self._heartbeat()
        for stream in self.streams.values():
            await self._reclaim(stream)
            await self._forget_dead_consumers(stream)
        await self._export_gauges()

    async def _heartbeat(self) -> None:
        """A short-lived liveness key per consumer (MESSAGING.md §10): gone soon after the worker is."""
        ttl_ms = max(1_000, int(self.settings.reclaim_interval_s * 3_000))
        async with self.redis.pipeline(transaction=False) as pipe:
            for consumer in self.consumers:
                pipe.set(self._heartbeat_key(consumer), len(self._in_flight), px=ttl_ms)
            await pipe.execute()

    def _heartbeat_key(self, consumer: str) -> str:
        return self.queues.state_key(self.domain, "workers", consumer)

    async def _renew_leases(self) -> None:
        """XCLAIM JUSTID our own running entries so their idle time resets (MESSAGING.md §4)."""
        mine: dict[str, list[Any]] = {}
        for stream, message_id in list(self._in_flight):
            mine.setdefault(stream, []).append(message_id)
        for stream, ids in mine.items():
            await self.redis.xclaim(stream, self.group, self.consumers[0], 0, ids, justid=True)

    async def _reclaim(self, stream: str) -> None:
        """Claim idle entries of dead or stuck consumers — only as many as this worker has free slots, picked
        at random among the idle ones so that replicas reclaiming at once spread instead of colliding."""
        free = self.settings.worker_concurrency - len(self._in_flight)
        if free <= 0 or self._stopping.is_set():
            return
        idle_ms = self.settings.claim_idle_ms
        stale = await self.redis.xpending_range(stream, self.group, min="-", max="+", count=RECLAIM_SCAN, idle=idle_ms)
        ids = [p["message_id"] for p in stale if (stream, p["message_id"]) not in self._in_flight]
        if not ids:
            return
        if len(ids) > free:
            ids = sorted(random.sample(ids, free))  # oldest first among those picked
        counts = {p["message_id"]: int(p["times_delivered"]) for p in stale}
        claimed = await self.redis.xclaim(stream, self.group, self.consumers[0], idle_ms, ids)
        for message_id, fields in claimed:
            delivery = Delivery(stream, message_id, fields or {}, counts.get(message_id, 0) + 1, self.consumers[0])
            if not fields:  # trimmed away meanwhile: nothing left to do
                await self.redis.xack(stream, self.group, message_id)
            elif delivery.delivery_count > self.settings.max_deliveries_without_outcome:
                await self._give_up(delivery)
            else:
                log.info("message_reclaimed", stream=stream, message_id=message_id, delivery=delivery.delivery_count)
                metrics.RECLAIMED.labels(self.service_name).inc()
                self._start(delivery)

    async def _forget_dead_consumers(self, stream: str) -> None:
        """Delete consumers of departed processes (no heartbeat, idle past `claim_idle_ms`) once they hold
        nothing (MESSAGING.md §7); what they held is reclaimed first."""
        candidates = [
            c["name"]
            for c in await self.redis.xinfo_consumers(stream, self.group)
            if c["name"] not in self.consumers
            and c["pending"] == 0
            and c.get("inactive", c["idle"]) > self.settings.claim_idle_ms
        ]
        if not candidates:
            return
        async with self.redis.pipeline(transaction=False) as pipe:
            for name in candidates:
                pipe.exists(self._heartbeat_key(name))
            alive = await pipe.execute()
        for name, beating in zip(candidates, alive, strict=True):
            if not beating:
                await self.redis.xgroup_delconsumer(stream, self.group, name)

    async def _give_up(self, delivery: Delivery) -> None:
        """A message delivered too often without an outcome (e.g. it kills its consumer)."""
        raw = raw_of(delivery)
        error = ValidationError(
            f"gave up after {delivery.delivery_count - 1} deliveries without an outcome (its consumers died)",
            code="max_deliveries_exceeded",
        )
        try:
            action = decode_action(raw, self.settings.max_message_bytes)
        except ValidationError:
            await self._reject(delivery, InvalidMessage(error), raw)
            return
        await self._reject(delivery, InvalidMessage(error, action), raw)

    async def _export_gauges(self) -> None:
        async with self.redis.pipeline(transaction=False) as pipe:
            for stream in self.streams.values():
                pipe.xinfo_groups(stream)
                pipe.xlen(stream)
            pipe.xlen(self.dead_letters)
            replies = await pipe.execute()
        for i, stream in enumerate(self.streams.values()):
            groups, length = replies[2 * i], replies[2 * i + 1]
            metrics.STREAM_LENGTH.labels(stream).set(length)
            for group in groups:
                if group["name"] == self.group:
                    metrics.STREAM_PENDING.labels(stream).set(group["pending"])
                    metrics.STREAM_LAG.labels(stream).set(group.get("lag") or 0)
                    metrics.STREAM_CONSUMERS.labels(stream).set(group["consumers"])
        metrics.DEAD_LETTER_LENGTH.labels(self.dead_letters).set(replies[-1])
        memory = await self.redis.info("memory")
        nodes = memory.values() if "used_memory" not in memory else [memory]  # a cluster answers per node
        metrics.REDIS_MEMORY.set(sum(int(node.get("used_memory", 0)) for node in nodes))
        metrics.REDIS_MAX_MEMORY.set(sum(int(node.get("maxmemory", 0)) for node in nodes))
