"""Task progress: the row in `ingestion_tasks` (GET /api/v1/tasks/{id}) and an event stream per task in Redis
(WS /ws/ingestion/{task_id}), written together."""

from __future__ import annotations

import json
from typing import Any

import sqlalchemy as sa
from redis.asyncio import Redis
from sqlalchemy.ext.asyncio import AsyncEngine

from common.knowledge_tables import ingestion_tasks
from common.messaging.queue_manager import QueueManager

TERMINAL = {"done", "failed"}


def task_events_key(queues: QueueManager, task_id: str) -> str:
    return queues.state_key("ingestion", "task", task_id, "events")


async def report(
    engine: AsyncEngine,
    redis: Redis,
    queues: QueueManager,
    tenant_id: str,
    task_id: str,
    ttl_s: int,
    **fields: Any,
) -> None:
    """Writes the task's new state and its event. Within a stage, `percent` and `chunks_embedded` only grow:
    batches embedded in parallel report out of order, and a bar that runs backwards tells the user nothing."""
    values: dict[str, Any] = dict(fields)
    if "stage" not in fields:
        for name in ("percent", "chunks_embedded"):
            if name in fields:
                values[name] = sa.func.greatest(ingestion_tasks.c[name], fields[name])
    async with engine.begin() as conn:
        row = (
            await conn.execute(
                ingestion_tasks.update()
                .where(ingestion_tasks.c.tenant_id == tenant_id, ingestion_tasks.c.id == task_id)
                .values(**values, updated_at=sa.func.now())
                .returning(*ingestion_tasks.c)
            )
        ).one_or_none()
    if row is None:
        return
    event = {
        "task_id": task_id,
        "document_id": row.document_id,
        "status": row.status,
        "stage": row.stage,
        "percent": row.percent,
        "chunks_total": row.chunks_total,
        "chunks_embedded": row.chunks_embedded,
        "error": row.error,
    }
    key = task_events_key(queues, task_id)
    async with redis.pipeline(transaction=False) as pipe:
        pipe.xadd(key, {"e": json.dumps(event)}, maxlen=1_000, approximate=True)
        pipe.expire(key, ttl_s)
        await pipe.execute()
