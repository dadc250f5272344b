"""Batches how messages end (reply or callback, dead letter, XACK) into one pipeline round trip.

Handlers finish one by one; each hands its commands to the outbox and waits. While one flush is
on the wire, the next batch gathers, so a busy worker sends one pipeline for many messages
(MESSAGING.md §1); a lone message's handler sends its own at once. A batch travels as few commands as
it can: one LPUSH per list with all its values (all replies to one caller process share its reply list), one
EXPIRE per list, one HDEL per hash and one XACK per stream with all the ids. Every message's own order
— reply, then dead letter, then forgetting its failures, then XACK — is kept, because the pipeline
sends the commands in that order of kinds.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from redis.asyncio import Redis
from redis.asyncio.client import Pipeline

from common.log import get_logger
from common.messaging.backoff import REDIS_DOWN, Backoff
from common.messaging.batcher import Batcher

log = get_logger(__name__)


@dataclass
class CommandBuffer:
    """The few write commands one message's ending needs, by kind; sent later with other messages'."""

    pushes: list[tuple[str, str]] = field(default_factory=list)  # LPUSH list value
    expiries: dict[str, int] = field(default_factory=dict)  # EXPIRE list seconds
    stream_entries: list[tuple[str, dict[str, str], dict[str, Any]]] = field(default_factory=list)  # XADD
    hash_deletes: list[tuple[str, str]] = field(default_factory=list)  # HDEL hash field
    acks: list[tuple[str, str, str]] = field(default_factory=list)  # XACK stream group id

    def lpush(self, key: str, value: str) -> None:
        self.pushes.append((key, value))

    def expire(self, key: str, seconds: int) -> None:
        self.expiries[key] = max(seconds, self.expiries.get(key, 0))

    def xadd(self, stream: str, fields: dict[str, str], **kwargs: Any) -> None:
        self.stream_entries.append((stream, fields, kwargs))

    def hdel(self, key: str, field: str) -> None:
        self.hash_deletes.append((key, field))

    def xack(self, stream: str, group: str, message_id: str) -> None:
        self.acks.append((stream, group, message_id))


def queue_batch(pipe: Pipeline, buffers: list[CommandBuffer]) -> None:
    """Queue `buffers` on `pipe` merged by kind and key, in the order every message needs (see module doc)."""
    pushes: dict[str, list[str]] = {}
    expiries: dict[str, int] = {}
    hash_deletes: dict[str, list[str]] = {}
    acks: dict[tuple[str, str], list[str]] = {}
    for buffer in buffers:
        for key, value in buffer.pushes:
            pushes.setdefault(key, []).append(value)
        for key, seconds in buffer.expiries.items():
            expiries[key] = max(seconds, expiries.get(key, 0))
        for key, name in buffer.hash_deletes:
            hash_deletes.setdefault(key, []).append(name)
        for stream, group, message_id in buffer.acks:
            acks.setdefault((stream, group), []).append(message_id)
    for key, values in pushes.items():
        pipe.lpush(key, *values)
    for key, seconds in expiries.items():
        pipe.expire(key, seconds)
    for buffer in buffers:
        for stream, fields, kwargs in buffer.stream_entries:
            pipe.xadd(stream, fields, **kwargs)  # type: ignore[arg-type]  # str fields are valid
    for key, names in hash_deletes.items():
        pipe.hdel(key, *names)
    for (stream, group), ids in acks.items():
        pipe.xack(stream, group, *ids)


class Outbox:
    """Sends message endings through a Batcher (common.messaging.batcher): the ending of the only message a worker
    is handling goes out from its handler at once; every other ending queues, so that the endings of one read
    share a pipeline, merged by `queue_batch`. A flush retries while Redis is down (at least once: a retried
    batch may repeat a push); `send` returns once Redis has executed the commands."""

    def __init__(self, redis: Redis):
        self.redis = redis
        self._batcher: Batcher[CommandBuffer, None] = Batcher(self._flush, "outbox")

    async def send(self, buffer: CommandBuffer, *, alone: bool = False) -> None:
        """`alone`: no other message is being handled, so nothing would join its flush."""
        await self._batcher.send(buffer, at_once=alone)

    async def close(self) -> None:
        await self._batcher.close()

    async def _flush(self, buffers: list[CommandBuffer]) -> list[None]:
        backoff = Backoff()
        while True:
            try:
                async with self.redis.pipeline(transaction=False) as pipe:
                    queue_batch(pipe, buffers)
                    results = await pipe.execute(raise_on_error=False)
                break
            except REDIS_DOWN as exc:
                await backoff.wait(exc, "outbox_redis_unavailable", messages=len(buffers))
        for result in results:
            if isinstance(result, Exception):
                log.error("outbox_command_failed", error=str(result))
        return [None] * len(buffers)
