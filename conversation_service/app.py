from typing import Any

from fastapi import FastAPI

from common.service import ServiceSpec, create_service_app
from conversation_service.api import routers
from conversation_service.deps import open_conversation_deps
from conversation_service.handlers import router
from conversation_service.settings import ConversationSettings

SPEC = ServiceSpec(
    name="conversation_service",
    domain="conversation",
    title="Nooble4 conversation service",
    settings_class=ConversationSettings,
    router=router,
    open_deps=open_conversation_deps,
    api_routers=routers,
)


def create_app(settings: ConversationSettings | None = None, deps: Any = None) -> FastAPI:
    return create_service_app(SPEC, settings or ConversationSettings(), deps)
