from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, fields
from typing import Annotated

from fastapi import Depends

from agent_management_service.services.agent_config import tenant_agents_changed
from agent_management_service.services.ledger import Ledger
from agent_management_service.services.mcp_servers import McpServers
from agent_management_service.services.webhooks import Webhooks
from agent_management_service.settings import ManagementSettings
from common.budgets import Budgets
from common.clients.base_redis_client import BaseRedisClient
from common.service import ServiceDeps, open_service_deps, service_deps


@dataclass
class ManagementDeps(ServiceDeps):
    settings: ManagementSettings
    ledger: Ledger
    budgets: Budgets
    webhooks: Webhooks
    mcp: McpServers


@asynccontextmanager
async def open_management_deps(settings: ManagementSettings) -> AsyncIterator[ManagementDeps]:
    async with open_service_deps(settings) as base:
        ledger = Ledger(base.engine)
        client = BaseRedisClient(base.redis, settings, "management")
        webhooks = Webhooks(base.engine, base.redis, settings, client)

        async def agents_changed(tenant_id: str) -> None:
            await tenant_agents_changed(base.redis, base.queues, base.engine, tenant_id)

        mcp = McpServers(base.engine, settings, agents_changed)
        try:
            yield ManagementDeps(
                **{f.name: getattr(base, f.name) for f in fields(ServiceDeps)},
                ledger=ledger,
                budgets=Budgets(base.redis, base.queues),
                webhooks=webhooks,
                mcp=mcp,
            )
        finally:
            await ledger.close()
            await webhooks.close()


Deps = Annotated[ManagementDeps, Depends(service_deps)]
