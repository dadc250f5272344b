import asyncio
from typing import Any

from fastapi import FastAPI

from agent_management_service.api import routers
from agent_management_service.deps import ManagementDeps, open_management_deps
from agent_management_service.handlers import router
from agent_management_service.settings import ManagementSettings
from common.service import ServiceSpec, create_service_app


async def background(deps: ManagementDeps, stopping: asyncio.Event) -> None:
    """Beside the worker: webhook retries moved to the stream when due, MCP servers' tools listed again."""
    await asyncio.gather(deps.webhooks.run_retries(stopping), deps.mcp.refresh_all(stopping))


SPEC = ServiceSpec(
    name="agent_management_service",
    domain="management",
    title="Nooble4 management service",
    settings_class=ManagementSettings,
    router=router,
    open_deps=open_management_deps,
    worker_background=lambda deps, stopping: background(deps, stopping),
    api_routers=routers,
)


def create_app(settings: ManagementSettings | None = None, deps: Any = None) -> FastAPI:
    return create_service_app(SPEC, settings or ManagementSettings(), deps)
