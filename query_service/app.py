from typing import Any

from fastapi import FastAPI

from common.service import ServiceSpec, create_service_app
from query_service.api import routers
from query_service.deps import open_query_deps
from query_service.handlers import router
from query_service.settings import QuerySettings

SPEC = ServiceSpec(
    name="query_service",
    domain="query",
    title="Nooble4 query service",
    settings_class=QuerySettings,
    router=router,
    api_routers=routers,
    open_deps=open_query_deps,
)


def create_app(settings: QuerySettings | None = None, deps: Any = None) -> FastAPI:
    return create_service_app(SPEC, settings or QuerySettings(), deps)
