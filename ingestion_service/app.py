from typing import Any

from fastapi import FastAPI

from common.service import ServiceSpec, create_service_app
from ingestion_service.api import routers
from ingestion_service.deps import open_ingestion_deps
from ingestion_service.handlers import router
from ingestion_service.settings import IngestionSettings
from ingestion_service.workers.ingestion_worker import IngestionWorker

SPEC = ServiceSpec(
    name="ingestion_service",
    domain="ingestion",
    title="Nooble4 ingestion service",
    settings_class=IngestionSettings,
    router=router,
    api_routers=routers,
    open_deps=open_ingestion_deps,
    worker_class=IngestionWorker,
)


def create_app(settings: IngestionSettings | None = None, deps: Any = None) -> FastAPI:
    return create_service_app(SPEC, settings or IngestionSettings(), deps)
