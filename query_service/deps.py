from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, fields
from typing import Annotated

from fastapi import Depends

from common.clients.base_redis_client import BaseRedisClient
from common.clients.usage_client import UsageClient
from common.service import ServiceDeps, open_service_deps, service_deps
from query_service.settings import QuerySettings


@dataclass
class QueryDeps(ServiceDeps):
    settings: QuerySettings
    embedding: BaseRedisClient  # embedding.generate for query vectors
    usage: UsageClient  # generate's model calls, to the usage ledger


@asynccontextmanager
async def open_query_deps(settings: QuerySettings) -> AsyncIterator[QueryDeps]:
    async with open_service_deps(settings) as base:
        yield QueryDeps(
            **{f.name: getattr(base, f.name) for f in fields(ServiceDeps)},
            embedding=BaseRedisClient(base.redis, settings, "query"),
            usage=UsageClient(base.redis, settings, "query"),
        )


QueryAppDeps = Annotated[QueryDeps, Depends(service_deps)]  # the REST layer's typed deps
