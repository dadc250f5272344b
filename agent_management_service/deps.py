from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, fields
from typing import Annotated

from fastapi import Depends

from agent_management_service.services.ledger import Ledger
from agent_management_service.settings import ManagementSettings
from common.budgets import Budgets
from common.service import ServiceDeps, open_service_deps, service_deps


@dataclass
class ManagementDeps(ServiceDeps):
    ledger: Ledger
    budgets: Budgets


@asynccontextmanager
async def open_management_deps(settings: ManagementSettings) -> AsyncIterator[ManagementDeps]:
    async with open_service_deps(settings) as base:
        ledger = Ledger(base.engine)
        try:
            yield ManagementDeps(
                **{f.name: getattr(base, f.name) for f in fields(ServiceDeps)},
                ledger=ledger,
                budgets=Budgets(base.redis, base.queues),
            )
        finally:
            await ledger.close()


Deps = Annotated[ManagementDeps, Depends(service_deps)]
