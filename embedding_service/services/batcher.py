"""Coalesces concurrent embedding requests into model batches.

Requests put their texts on a queue; one loop takes up to `batch_size` texts (waiting at most
`batch_wait_ms` for more once the model is free), runs the model once, and hands each request its
vectors. Many small concurrent calls thus cost a few large model calls. The queue is ordered: interactive
texts (a question being answered) go before bulk ones (a document's chunks), in arrival order within each, so
a chat turn's retrieval waits for at most the batch being computed, not for a whole ingestion. A batch of bulk texts
alone runs on `bulk_embedder` when there is one (the same model on a background-priority thread).
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools

from embedding_service.services.providers import Embedder


class Batcher:
    def __init__(self, embedder: Embedder, batch_size: int, wait_ms: float, bulk_embedder: Embedder | None = None):
        self.embedder = embedder
        self.bulk_embedder = bulk_embedder or embedder
        self.batch_size = batch_size
        self.wait_s = wait_ms / 1000
        # (bulk?, arrival number, text, future): interactive first, then first come first served
        self._queue: asyncio.PriorityQueue[tuple[bool, int, str, asyncio.Future[list[float]]]] = asyncio.PriorityQueue()
        self._arrivals = itertools.count()
        self._loop_task: asyncio.Task[None] | None = None

    async def embed(self, texts: list[str], bulk: bool = False) -> list[list[float]]:
        if self._loop_task is None:
            self._loop_task = asyncio.create_task(self._run())
        loop = asyncio.get_running_loop()
        futures = [loop.create_future() for _ in texts]
        for text, future in zip(texts, futures, strict=True):
            self._queue.put_nowait((bulk, next(self._arrivals), text, future))
        return list(await asyncio.gather(*futures))

    async def close(self) -> None:
        if self._loop_task:
            self._loop_task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._loop_task

    async def _run(self) -> None:
        while True:
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
            live = [(text, future) for _, _, text, future in batch if not future.done()]
            if not live:
                continue
            embedder = self.bulk_embedder if all(bulk for bulk, *_ in batch) else self.embedder
            try:
                vectors = await embedder.embed([text for text, _ in live])
            except Exception as exc:  # every waiter of the batch gets the failure
                for _, future in live:
                    if not future.done():
                        future.set_exception(exc)
                continue
            for (_, future), vector in zip(live, vectors, strict=True):
                if not future.done():
                    future.set_result(vector)
