"""An ingestion's progress only moves forward: embedding batches run in parallel and report out of order, and
the task's row and its event stream must not show 71 % and then 47 %."""

from __future__ import annotations

import asyncio
import json

from redis.asyncio import Redis

from common.database import create_engine
from common.knowledge_tables import ingestion_tasks
from common.messaging.queue_manager import QueueManager
from common.settings import CommonSettings
from ingestion_service.services.progress import report, task_events_key


async def test_parallel_batches_reporting_out_of_order_never_move_progress_back(
    migrated: CommonSettings, redis: Redis, queues: QueueManager
) -> None:
    engine = create_engine(migrated)
    try:
        async with engine.begin() as conn:
            await conn.execute(
                ingestion_tasks.insert().values(
                    tenant_id="t1", id="task-1", document_id="d1", status="processing", stage="queued"
                )
            )

        async def progress(**fields: object) -> None:
            await report(engine, redis, queues, "t1", "task-1", 60, **fields)

        await progress(status="processing", stage="embedding", percent=20, chunks_total=101)
        await progress(chunks_embedded=69, percent=71)
        await progress(chunks_embedded=37, percent=47)  # an earlier batch's news, written late
        await asyncio.gather(*(progress(chunks_embedded=n, percent=20 + n // 2) for n in (90, 40, 60, 10)))
        events = [json.loads(e[1]["e"]) for e in await redis.xrange(task_events_key(queues, "task-1"))]
        percents = [e["percent"] for e in events]
        assert percents == sorted(percents) and percents[-1] == 71
        assert events[-1]["chunks_embedded"] == 90
        # a new stage starts from its own numbers (a retried document is extracted again from 5 %)
        await progress(status="processing", stage="extracting", percent=5)
        latest = json.loads((await redis.xrevrange(task_events_key(queues, "task-1"), count=1))[0][1]["e"])
        assert latest["percent"] == 5
    finally:
        await engine.dispose()
