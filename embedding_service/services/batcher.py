"""Coalesces concurrent embedding requests into model batches.

Requests put their texts on a queue; one loop takes up to `batch_size` texts (waiting at most
`batch_wait_ms` for more once a model slot is free), runs the model on them, and hands each request its
vectors; up to `parallel` model calls run at once (the local model: one per core). Many small concurrent calls
thus cost a few large model calls. The queue is ordered: interactive texts (a question being answered) go
before bulk ones (a document's chunks), in arrival order within each, so a chat turn's retrieval waits for at
most the batches being computed, not for a whole ingestion. A batch of bulk texts alone is embedded as bulk
(the local model runs it at background priority).
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools

from embedding_service.services.providers import Embedder


class Batcher:
    def __init__(self, embedder: Embedder, batch_size: int, wait_ms: float, parallel: int = 1):
        self.embedder = embedder
        self.batch_size = batch_size
        self.wait_s = wait_ms / 1000
        # (bulk?, arrival number, text, future): interactive first, then first come first served
        self._queue: asyncio.PriorityQueue[tuple[bool, int, str, asyncio.Future[list[float]]]] = asyncio.PriorityQueue()
        self._arrivals = itertools.count()
        self._loop_task: asyncio.Task[None] | None = None
        self._slots = asyncio.Semaphore(parallel)
        self._computing: set[asyncio.Task[None]] = set()

    async def embed(self, texts: list[str], bulk: bool = False) -> list[list[float]]:
        if self._loop_task is None:
            self._loop_task = asyncio.create_task(self._run())
        loop = asyncio.get_running_loop()
        futures = [loop.create_future() for _ in texts]
        for text, future in zip(texts, futures, strict=True):
            self._queue.put_nowait((bulk, next(self._arrivals), text, future))
        return list(await asyncio.gather(*futures))

    async def close(self) -> None:
        tasks = [*self._computing, *([self._loop_task] if self._loop_task else [])]
        for task in tasks:
            task.cancel()
        for task in tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task

    async def _run(self) -> None:
        while True:
            await self._slots.acquire()  # a model slot is free: the next batch forms now
            try:
                batch = await self._take()
            except BaseException:
                self._slots.release()
                raise
            live = [(text, future) for _, _, text, future in batch if not future.done()]
            if not live:
                self._slots.release()
                continue
            # held in `_computing` until done (the loop alone keeps only a weak reference)
            computing = asyncio.create_task(self._compute(live, bulk=all(bulk for bulk, *_ in batch)))  # noqa: RUF006
            self._computing.add(computing)
            computing.add_done_callback(self._computing.discard)

    async def _take(self) -> list[tuple[bool, int, str, asyncio.Future[list[float]]]]:
        batch = [await self._queue.get()]
        deadline = asyncio.get_running_loop().time() + self.wait_s
        while len(batch) < self.batch_size:
            remaining = deadline - asyncio.get_running_loop().time()
            if not self._queue.empty():
                batch.append(self._queue.get_nowait())
            elif remaining > 0:
                try:
                    async with asyncio.timeout(remaining):
                        batch.append(await self._queue.get())
                except TimeoutError:
                    break
            else:
                break
        return batch

    async def _compute(self, live: list[tuple[str, asyncio.Future[list[float]]]], bulk: bool) -> None:
        try:
            vectors = await self.embedder.embed([text for text, _ in live], bulk=bulk)
        except Exception as exc:  # every waiter of the batch gets the failure
            for _, future in live:
                if not future.done():
                    future.set_exception(exc)
            return
        finally:
            self._slots.release()
        for (_, future), vector in zip(live, vectors, strict=True):
            if not future.done():
                future.set_result(vector)
