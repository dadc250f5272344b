from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, fields
from typing import Annotated

from fastapi import Depends

from common.service import ServiceDeps, open_service_deps, service_deps
from embedding_service.services.embedder import EmbeddingService
from embedding_service.settings import EmbeddingSettings


@dataclass
class EmbeddingDeps(ServiceDeps):
    embeddings: EmbeddingService


@asynccontextmanager
async def open_embedding_deps(settings: EmbeddingSettings) -> AsyncIterator[EmbeddingDeps]:
    async with open_service_deps(settings) as base:
        embeddings = EmbeddingService(base.redis, base.queues, settings)
        embeddings.warm_up()
        try:
            yield EmbeddingDeps(**{f.name: getattr(base, f.name) for f in fields(ServiceDeps)}, embeddings=embeddings)
        finally:
            await embeddings.close()


EmbeddingAppDeps = Annotated[EmbeddingDeps, Depends(service_deps)]  # the REST layer's typed deps
