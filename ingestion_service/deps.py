from __future__ import annotations

import asyncio
import os
import socket
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, fields
from typing import Annotated

from fastapi import Depends

from common.clients.base_redis_client import BaseRedisClient
from common.handlers.callback_handlers import CallbackReceiverHandler
from common.service import ServiceDeps, open_service_deps, service_deps
from ingestion_service.settings import IngestionSettings

ORIGIN = "ingestion"


@dataclass
class IngestionDeps(ServiceDeps):
    settings: IngestionSettings
    embedding: BaseRedisClient  # sends embedding.generate (and ingestion.document.ingest to ourselves)
    callbacks: CallbackReceiverHandler  # embedding batches' callbacks, awaited by the pipeline
    instance_id: str
    callback_queue: str  # this replica's own list: the callbacks of its batches come back here
    extract_gate: asyncio.Semaphore  # documents read at once (each in its own child process)
    embed_gate: asyncio.Semaphore  # embedding batches awaiting an answer, all documents together


@asynccontextmanager
async def open_ingestion_deps(settings: IngestionSettings) -> AsyncIterator[IngestionDeps]:
    async with open_service_deps(settings) as base:
        instance_id = settings.instance_id or f"{socket.gethostname()}-{os.getpid()}"
        yield IngestionDeps(
            **{f.name: getattr(base, f.name) for f in fields(ServiceDeps)},
            embedding=BaseRedisClient(base.redis, settings, ORIGIN),
            callbacks=CallbackReceiverHandler(),
            instance_id=instance_id,
            callback_queue=base.queues.callback_queue(ORIGIN, instance_id),
            extract_gate=asyncio.Semaphore(settings.extract_parallel),
            embed_gate=asyncio.Semaphore(settings.embed_inflight_batches),
        )


IngestionAppDeps = Annotated[IngestionDeps, Depends(service_deps)]  # the REST layer's typed deps
