import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from fastapi import FastAPI

from agent_orchestrator_service.api import routers
from agent_orchestrator_service.handlers import callback_router
from agent_orchestrator_service.services.chat_service import ChatService
from agent_orchestrator_service.services.turn_deadlines import DeadlineSweeper
from agent_orchestrator_service.settings import OrchestratorSettings
from common.service import ServiceSpec, create_service_app, open_service_deps
from common.tasks import supervised
from common.workers.callback_consumer import CallbackConsumer
from common.workers.replicas import CallbackAdopter


@asynccontextmanager
async def chat_lifespan(app: FastAPI) -> AsyncIterator[None]:
    """The chat service, the consumer of this replica's own callback list (turn events), and the adoption of
    dead replicas' callback lists (their turns go on and end on this replica's sockets), and the sweeper of turns'
    deadlines (agent_orchestrator_service.services.turn_deadlines)."""
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
    stopping = asyncio.Event()
    sweeper = DeadlineSweeper(chat.store, chat.execution, stopping)
    tasks = [consumer.start(), adopter.start(), supervised("turn-deadlines", sweeper.run, stopping)]
    try:
        yield
    finally:
        consumer.stop()
        adopter.stop()
        stopping.set()
        await asyncio.gather(*tasks)
        await chat.close()


SPEC = ServiceSpec(
    name="agent_orchestrator_service",
    domain="orchestrator",
    title="Nooble4 orchestrator service",
    settings_class=OrchestratorSettings,
    router=None,
    open_deps=open_service_deps,
    api_routers=routers,
    api_lifespan=chat_lifespan,
)


def create_app(settings: OrchestratorSettings | None = None, deps: Any = None) -> FastAPI:
    return create_service_app(SPEC, settings or OrchestratorSettings(), deps)
