"""Queueing ingestion work so that a document row and its work never diverge.

The database row (`queued`, with its task) is the record of the work; the action on the stream is how a
worker hears of it, and a marker in Redis (the set of documents with live queued work) says it was sent.
A row queued for `requeue_after_s` without a marker — the XADD failed (Redis down) or Redis lost it (a
restart without persistence) — is queued again by the sweeper, run by every ingestion worker (each row taken
by one of them per pass); one with a marker is left to its action unless it waits for `requeue_marked_after_s`
(a long backlog). The sweeper also fails documents whose processing stopped making progress, so nothing
stays in progress forever.
"""

from __future__ import annotations

from datetime import timedelta

import sqlalchemy as sa

from common.contracts import ingestion
from common.contracts.ingestion import IngestRequest
from common.knowledge_tables import documents, ingestion_tasks
from common.log import get_logger
from common.messaging.backoff import REDIS_DOWN
from common.models.actions import utc_now
from common.models.tiers import Tier
from ingestion_service.deps import IngestionDeps
from ingestion_service.services.pipeline import fail_document, queued_marker

log = get_logger(__name__)
SWEEP_BATCH = 200


async def enqueue(deps: IngestionDeps, tenant_id: str, tier: Tier | str, document_id: str, task_id: str) -> bool:
    """XADD the ingestion of `document_id` and mark it queued; False when Redis is unreachable (the sweeper
    will queue it once Redis is back)."""
    request = IngestRequest(document_id=document_id, task_id=task_id)
    try:
        await deps.embedding.send(
            ingestion.INGEST_DOCUMENT, request, tenant_id=tenant_id, tenant_tier=tier, task_id=task_id
        )
        await deps.redis.sadd(queued_marker(deps), f"{tenant_id}:{document_id}")  # type: ignore[misc]
    except REDIS_DOWN as exc:
        log.warning("ingestion_not_queued_yet", document_id=document_id, error=str(exc))
        return False
    return True


async def sweep(deps: IngestionDeps) -> tuple[int, int]:
    """One pass: re-queue documents queued too long, fail those stalled in processing. Returns the counts."""
    settings = deps.settings
    now = utc_now()
    overdue = sa.and_(
        documents.c.status == "queued", documents.c.updated_at < now - timedelta(seconds=settings.requeue_after_s)
    )
    async with deps.engine.begin() as conn:
        waiting = (
            await conn.execute(
                sa.select(documents.c.tenant_id, documents.c.id, documents.c.updated_at)
                .where(overdue)
                .limit(SWEEP_BATCH)
            )
        ).all()
        marked = await _marked(deps, [(row.tenant_id, row.id) for row in waiting])
        patience = now - timedelta(seconds=settings.requeue_marked_after_s)
        lost = [
            (row.tenant_id, row.id)
            for row, has_work in zip(waiting, marked, strict=True)
            if not has_work or row.updated_at < patience
        ]
        # take those rows (still overdue, skipping any another replica is taking) and push their time forward:
        # each is queued again once per pass
        stale = (
            sa.select(documents.c.tenant_id, documents.c.id)
            .where(overdue, sa.tuple_(documents.c.tenant_id, documents.c.id).in_(lost or [("", "")]))
            .with_for_update(skip_locked=True)
        )
        requeue = (
            await conn.execute(
                documents.update()
                .where(sa.tuple_(documents.c.tenant_id, documents.c.id).in_(stale))
                .values(updated_at=sa.func.now())
                .returning(documents.c.tenant_id, documents.c.id)
            )
        ).all()
        tasks = {}
        if requeue:
            rows = await conn.execute(
                sa.select(
                    ingestion_tasks.c.tenant_id,
                    ingestion_tasks.c.document_id,
                    ingestion_tasks.c.id,
                    ingestion_tasks.c.tier,
                )
                .where(sa.tuple_(ingestion_tasks.c.tenant_id, ingestion_tasks.c.document_id).in_(requeue))
                .order_by(ingestion_tasks.c.created_at)
            )
            tasks = {(r.tenant_id, r.document_id): (r.id, r.tier) for r in rows}  # the latest task wins
        stalled_since = now - timedelta(seconds=settings.stalled_after_s)
        stalled = (
            await conn.execute(
                sa.select(documents.c.tenant_id, documents.c.id, ingestion_tasks.c.id.label("task_id"))
                .join(
                    ingestion_tasks,
                    sa.and_(
                        ingestion_tasks.c.tenant_id == documents.c.tenant_id,
                        ingestion_tasks.c.document_id == documents.c.id,
                    ),
                )
                .where(
                    documents.c.status == "processing",
                    documents.c.updated_at < stalled_since,
                    ingestion_tasks.c.status != "done",
                    ingestion_tasks.c.updated_at < stalled_since,
                )
                .limit(SWEEP_BATCH)
            )
        ).all()
    for tenant_id, document_id in requeue:
        if (tenant_id, document_id) in tasks:
            task_id, tier = tasks[(tenant_id, document_id)]
            if await enqueue(deps, tenant_id, tier, document_id, task_id):
                log.info("ingestion_requeued", document_id=document_id, task_id=task_id)
    reason = f"ingestion_stalled: no progress for {settings.stalled_after_s:g} s"
    for row in stalled:
        await fail_document(deps, row.tenant_id, row.id, row.task_id, reason)
        log.warning("ingestion_stalled_failed", document_id=row.id)
    return len(requeue), len(stalled)


async def _marked(deps: IngestionDeps, waiting: list[tuple[str, str]]) -> list[bool]:
    if not waiting:
        return []
    members = [f"{tenant_id}:{document_id}" for tenant_id, document_id in waiting]
    found = await deps.redis.smismember(queued_marker(deps), members)  # type: ignore[misc]
    return [bool(flag) for flag in found]
