"""REST routers of the conversation service."""

from fastapi import APIRouter

from conversation_service.api import conversations

routers: list[APIRouter] = [conversations.router]
