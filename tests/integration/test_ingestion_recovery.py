"""An ingestion worker killed mid-document: another one resumes the document, and no chunk is stored twice."""

from __future__ import annotations

import signal

import sqlalchemy as sa

from common.auth import TenantIdentity
from common.clients.base_redis_client import BaseRedisClient
from common.database import create_engine
from common.knowledge_tables import chunks
from common.models.tiers import Tier
from ingestion_service.models.knowledge import CollectionCreate
from ingestion_service.services.collections import create_collection
from ingestion_service.services.documents import add_document, get_document, get_task
from ingestion_service.settings import IngestionSettings
from tests.support.helpers import eventually

TENANT = TenantIdentity("tenant-recovery", Tier.ENTERPRISE, "jwt")
SLOW = {"NOOBLE4_EMBED_BATCH_SIZE": "2", "NOOBLE4_EMBED_PARALLEL_BATCHES": "1", "NOOBLE4_INSTANCE_ID": ""}


async def test_killed_mid_document_resumes_without_duplicates(migrated, redis, processes) -> None:
    settings = IngestionSettings()
    engine = create_engine(settings)
    try:
        collection = await create_collection(
            engine, TENANT, CollectionCreate(name="c", chunk_size=20, chunk_overlap=0), settings
        )
        text = " ".join(f"Paragraph {i} is about topic {i} and nothing else at all." for i in range(120)).encode()
        accepted = await add_document(
            engine, TENANT, collection.id, title="long", source="long.txt", kind="txt", raw=text
        )
        processes.start("embedding_service", "--only", "worker")
        first = processes.start("ingestion_service", "--only", "worker", **SLOW)
        client = BaseRedisClient(redis, settings, "tester")
        action = client.new_action(
            "ingestion.document.ingest",
            tenant_id=TENANT.tenant_id,
            tenant_tier=TENANT.tier,
            data={"document_id": accepted.document.id, "task_id": accepted.task_id},
        )
        await client.send_action_async(action)

        async def midway() -> bool:
            task = await get_task(engine, TENANT.tenant_id, str(accepted.task_id))
            return 0 < task.chunks_embedded < task.chunks_total

        await eventually(midway, timeout=60, what="embedding under way")
        first.send_signal(signal.SIGKILL)
        first.wait()
        processes.start("ingestion_service", "--only", "worker")  # reclaims the pending action

        async def finished():
            task = await get_task(engine, TENANT.tenant_id, str(accepted.task_id))
            return task if task.status in ("done", "failed") else None

        task = await eventually(finished, timeout=60, what="document finished after the crash")
        assert task.status == "done" and task.chunks_embedded == task.chunks_total > 10
        async with engine.connect() as conn:
            rows = (
                await conn.execute(
                    sa.select(chunks.c.position, chunks.c.embedding.is_(None).label("missing")).where(
                        chunks.c.document_id == accepted.document.id
                    )
                )
            ).all()
        positions = [row.position for row in rows]
        assert sorted(positions) == list(range(task.chunks_total))  # each chunk once
        assert not any(row.missing for row in rows)
    finally:
        await engine.dispose()


async def test_without_embedding_answers_the_document_fails_after_its_last_retry(migrated, redis, processes) -> None:
    """No embedding service: each delivery times out, is retried, and the last one ends the task as failed."""
    settings = IngestionSettings()
    engine = create_engine(settings)
    try:
        collection = await create_collection(engine, TENANT, CollectionCreate(name="c"), settings)
        accepted = await add_document(engine, TENANT, collection.id, title="t", source="t.txt", kind="txt", raw=b"Hi.")
        processes.start(
            "ingestion_service", "--only", "worker", NOOBLE4_EMBED_TIMEOUT_S="0.3", NOOBLE4_MAX_DELIVERIES="2"
        )
        client = BaseRedisClient(redis, settings, "tester")
        data = {"document_id": accepted.document.id, "task_id": accepted.task_id}
        await client.send_action_async(
            client.new_action(
                "ingestion.document.ingest", tenant_id=TENANT.tenant_id, tenant_tier=TENANT.tier, data=data
            )
        )

        async def ended():
            task = await get_task(engine, TENANT.tenant_id, str(accepted.task_id))
            return task if task.status in ("done", "failed") else None

        task = await eventually(ended, timeout=30, what="the task to end")
        assert task.status == "failed" and "did not answer" in task.error
        async with engine.connect() as conn:
            left = await conn.scalar(
                sa.select(sa.func.count()).select_from(chunks).where(chunks.c.document_id == accepted.document.id)
            )
        assert left == 0  # no partial chunks
    finally:
        await engine.dispose()


async def test_a_document_whose_queued_work_was_lost_is_queued_again(migrated, redis, processes) -> None:
    """The row says `queued` but Redis has no work for it (lost in a restart without persistence, or never sent
    while Redis was down): the sweeper queues it again and it ingests. Uploading it again also retries it."""
    settings = IngestionSettings()
    engine = create_engine(settings)
    try:
        collection = await create_collection(engine, TENANT, CollectionCreate(name="c"), settings)
        lost = await add_document(engine, TENANT, collection.id, title="t", source="t.txt", kind="txt", raw=b"Lost.")
        again = await add_document(engine, TENANT, collection.id, title="t", source="t.txt", kind="txt", raw=b"Lost.")
        assert again.duplicate and again.task_id and again.task_id != lost.task_id  # a retry, not a dead end
        processes.start("embedding_service", "--only", "worker")
        processes.start(
            "ingestion_service", "--only", "worker", NOOBLE4_REQUEUE_AFTER_S="0.5", NOOBLE4_SWEEP_INTERVAL_S="0.2"
        )

        async def ready():
            document = await get_document(engine, TENANT.tenant_id, lost.document.id)
            return document if document.status in ("ready", "failed") else None

        document = await eventually(ready, timeout=60, what="the lost document ingested")
        assert document.status == "ready" and document.chunk_count == 1
    finally:
        await engine.dispose()
