from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, fields

from common.clients.base_redis_client import BaseRedisClient
from common.service import ServiceDeps, open_service_deps
from conversation_service.settings import ConversationSettings


@dataclass
class ConversationDeps(ServiceDeps):
    embedding: BaseRedisClient  # embedding.generate: messages indexed and questions embedded for recall


@asynccontextmanager
async def open_conversation_deps(settings: ConversationSettings) -> AsyncIterator[ConversationDeps]:
    async with open_service_deps(settings) as base:
        yield ConversationDeps(
            **{f.name: getattr(base, f.name) for f in fields(ServiceDeps)},
            embedding=BaseRedisClient(base.redis, settings, "conversation"),
        )
