from typing import Any

from fastapi import FastAPI

from agent_orchestrator_service.api import routers
from agent_orchestrator_service.handlers import router
from agent_orchestrator_service.settings import OrchestratorSettings
from agent_orchestrator_service.workers.orchestrator_worker import OrchestratorWorker
from common.service import ServiceSpec, create_service_app

SPEC = ServiceSpec(
    name="agent_orchestrator_service",
    domain="orchestrator",
    title="Nooble4 orchestrator service",
    settings_class=OrchestratorSettings,
    router=router,
    api_routers=routers,
    worker_class=OrchestratorWorker,
)


def create_app(settings: OrchestratorSettings | None = None, deps: Any = None) -> FastAPI:
    return create_service_app(SPEC, settings or OrchestratorSettings(), deps)
