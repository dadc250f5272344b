import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from fastapi import FastAPI

from agent_orchestrator_service.api import routers
from agent_orchestrator_service.handlers import callback_router
from agent_orchestrator_service.services.chat_service import ChatService
from agent_orchestrator_service.settings import OrchestratorSettings
from common.service import ServiceSpec, create_service_app
from common.workers.callback_consumer import CallbackConsumer
from common.workers.replicas import CallbackAdopter


@asynccontextmanager
async def chat_lifespan(app: FastAPI) -> AsyncIterator[None]:
    """The chat service, the consumer of this replica's own callback list (turn events), and the adoption of
    dead replicas' callback lists (their turns go on and end on this replica's sockets)."""
    chat = ChatService(app.state.deps, app.state.settings)
    app.state.chat = chat
    consumer = CallbackConsumer(
        redis=app.state.deps.redis,
        settings=app.state.settings,
        queue=chat.callback_queue,
        consumer=chat.instance_id,
        router=callback_router,
        deps=chat,
    )
    adopter = CallbackAdopter(app.state.deps.redis, app.state.deps.queues, "orchestrator", chat.instance_id)
    tasks = [consumer.start(), adopter.start()]
    try:
        yield
    finally:
        consumer.stop()
        adopter.stop()
        await asyncio.gather(*tasks)
        await chat.close()


SPEC = ServiceSpec(
    name="agent_orchestrator_service",
    domain="orchestrator",
    title="Nooble4 orchestrator service",
    settings_class=OrchestratorSettings,
    router=None,
    api_routers=routers,
    api_lifespan=chat_lifespan,
)


def create_app(settings: OrchestratorSettings | None = None, deps: Any = None) -> FastAPI:
    return create_service_app(SPEC, settings or OrchestratorSettings(), deps)
