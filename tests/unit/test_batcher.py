"""The Batcher behind the worker's outbox and the callers' XADDs: one flush at a time, a lone sender at once."""

from __future__ import annotations

import asyncio

import pytest

from common.messaging.batcher import Batcher


class Wire:
    """A flush that records each batch and can be held on the wire until released."""

    def __init__(self) -> None:
        self.batches: list[list[str]] = []
        self.hold = asyncio.Event()
        self.hold.set()
        self.on_wire = asyncio.Event()

    async def flush(self, items: list[str]) -> list[str | BaseException]:
        self.batches.append(items)
        self.on_wire.set()
        await self.hold.wait()
        if "boom" in items:
            raise RuntimeError("the wire broke")
        return [ValueError(item) if item.startswith("bad") else item.upper() for item in items]


async def flush_on_the_wire(wire: Wire) -> tuple[Batcher[str, str], asyncio.Task[str]]:
    """A batcher whose first flush (of "a") is held on the wire until `wire.hold` is set."""
    batcher = Batcher(wire.flush, "test")
    wire.hold.clear()
    first = asyncio.create_task(batcher.send("a"))
    await wire.on_wire.wait()
    return batcher, first


async def test_a_lone_sender_flushes_its_own_item_at_once() -> None:
    wire = Wire()
    batcher = Batcher(wire.flush, "test")
    assert await batcher.send("a") == "A"
    assert wire.batches == [["a"]]


async def test_items_sent_while_a_flush_is_on_the_wire_share_the_next_flush_and_get_their_own_results() -> None:
    wire = Wire()
    batcher, first = await flush_on_the_wire(wire)
    later = [asyncio.create_task(batcher.send(item)) for item in ("b", "bad-c", "d")]
    await asyncio.sleep(0)  # all three are queued behind the flush on the wire
    wire.hold.set()
    assert await first == "A"
    results = await asyncio.gather(*later, return_exceptions=True)
    assert results[0] == "B" and results[2] == "D"
    assert isinstance(results[1], ValueError)  # only its own sender fails
    assert wire.batches == [["a"], ["b", "bad-c", "d"]]


async def test_a_sender_cancelled_while_queued_is_not_sent() -> None:
    wire = Wire()
    batcher, first = await flush_on_the_wire(wire)
    dropped = asyncio.create_task(batcher.send("dropped"))
    kept = asyncio.create_task(batcher.send("kept"))
    await asyncio.sleep(0)
    dropped.cancel()
    wire.hold.set()
    assert (await first, await kept) == ("A", "KEPT")
    with pytest.raises(asyncio.CancelledError):
        await dropped
    assert wire.batches == [["a"], ["kept"]]


async def test_a_failed_flush_fails_its_senders_and_the_next_flush_still_runs() -> None:
    wire = Wire()
    batcher, first = await flush_on_the_wire(wire)
    broken = [asyncio.create_task(batcher.send(item)) for item in ("boom", "x")]
    await asyncio.sleep(0)
    wire.hold.set()
    await first
    assert all(isinstance(r, RuntimeError) for r in await asyncio.gather(*broken, return_exceptions=True))
    assert await batcher.send("after") == "AFTER"


async def test_queued_items_wait_for_a_flush_even_without_one_on_the_wire() -> None:
    wire = Wire()
    batcher = Batcher(wire.flush, "test")
    results = await asyncio.gather(*(batcher.send(item, at_once=False) for item in "abc"))
    assert results == ["A", "B", "C"]
    assert wire.batches == [["a", "b", "c"]]  # queued together, one flush by the drain task
