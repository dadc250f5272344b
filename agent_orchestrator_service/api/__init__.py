"""REST, WebSocket and web page routers of the orchestrator service."""

from fastapi import APIRouter

from agent_orchestrator_service.api import chat, web

routers: list[APIRouter] = [chat.router, web.router]
