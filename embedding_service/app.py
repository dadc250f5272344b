from typing import Any

from fastapi import FastAPI

from common.service import ServiceSpec, create_service_app
from embedding_service.api import routers
from embedding_service.deps import open_embedding_deps
from embedding_service.handlers import router
from embedding_service.settings import EmbeddingSettings

SPEC = ServiceSpec(
    name="embedding_service",
    domain="embedding",
    title="Nooble4 embedding service",
    settings_class=EmbeddingSettings,
    router=router,
    api_routers=routers,
    open_deps=open_embedding_deps,
)


def create_app(settings: EmbeddingSettings | None = None, deps: Any = None) -> FastAPI:
    return create_service_app(SPEC, settings or EmbeddingSettings(), deps)
