from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, fields
from typing import Annotated

from fastapi import Depends

from common.clients.base_redis_client import BaseRedisClient
from common.clients.webhook_client import WebhookClient
from common.service import ServiceDeps, open_service_deps, service_deps
from ingestion_service.settings import IngestionSettings

ORIGIN = "ingestion"


@dataclass
class IngestionDeps(ServiceDeps):
    settings: IngestionSettings
    embedding: BaseRedisClient  # calls embedding.generate (and sends ingestion.document.ingest to ourselves)
    extract_gate: asyncio.Semaphore  # documents read at once (each in its own child process)
    embed_gate: asyncio.Semaphore  # embedding batches awaiting an answer, all documents together
    webhooks: WebhookClient  # document.ready / document.failed, to the tenant's webhooks


@asynccontextmanager
async def open_ingestion_deps(settings: IngestionSettings) -> AsyncIterator[IngestionDeps]:
    async with open_service_deps(settings) as base:
        yield IngestionDeps(
            **{f.name: getattr(base, f.name) for f in fields(ServiceDeps)},
            embedding=BaseRedisClient(base.redis, settings, ORIGIN),
            extract_gate=asyncio.Semaphore(settings.extract_parallel),
            embed_gate=asyncio.Semaphore(settings.embed_inflight_batches),
            webhooks=WebhookClient(base.redis, settings, ORIGIN),
        )


IngestionAppDeps = Annotated[IngestionDeps, Depends(service_deps)]  # the REST layer's typed deps
