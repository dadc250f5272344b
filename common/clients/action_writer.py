"""One action writer per process (per Redis client and event loop): the XADDs of all the process's callers go
through one Batcher (common.messaging.batcher), so a lone call sends its XADD at once and concurrent calls
share a pipeline (MESSAGING.md §1) instead of a round trip — and a pooled connection — each."""

from __future__ import annotations

from typing import NamedTuple

from redis.asyncio import Redis

from common.clients.loop_local import LoopLocal
from common.messaging.batcher import Batcher
from common.messaging.codec import ACTION_FIELD


class StreamEntry(NamedTuple):
    stream: str
    payload: str  # the encoded envelope
    maxlen: int  # trimmed approximately (MAXLEN ~)


_writers: LoopLocal[Batcher[StreamEntry, str]] = LoopLocal()


def action_writer(redis: Redis) -> Batcher[StreamEntry, str]:
    """This event loop's writer through `redis`; `await writer.send(entry)` returns the entry id."""
    return _writers.get(redis, None, lambda: Batcher(lambda entries: _xadd_all(redis, entries), "actions"))


async def _xadd_all(redis: Redis, entries: list[StreamEntry]) -> list[str | BaseException]:
    if len(entries) == 1:  # no pipeline for a lone entry
        stream, payload, maxlen = entries[0]
        return [await redis.xadd(stream, {ACTION_FIELD: payload}, maxlen=maxlen, approximate=True)]
    async with redis.pipeline(transaction=False) as pipe:
        for stream, payload, maxlen in entries:
            pipe.xadd(stream, {ACTION_FIELD: payload}, maxlen=maxlen, approximate=True)
        return list(await pipe.execute(raise_on_error=False))
