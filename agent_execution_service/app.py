from typing import Any

from fastapi import FastAPI

from agent_execution_service.api import routers
from agent_execution_service.deps import open_execution_deps
from agent_execution_service.handlers import router
from agent_execution_service.settings import ExecutionSettings
from common.service import ServiceSpec, create_service_app

SPEC = ServiceSpec(
    name="agent_execution_service",
    domain="execution",
    title="Nooble4 execution service",
    settings_class=ExecutionSettings,
    router=router,
    api_routers=routers,
    open_deps=open_execution_deps,
)


def create_app(settings: ExecutionSettings | None = None, deps: Any = None) -> FastAPI:
    return create_service_app(SPEC, settings or ExecutionSettings(), deps)
