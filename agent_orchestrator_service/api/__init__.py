"""REST routers of the orchestrator service."""

from fastapi import APIRouter

routers: list[APIRouter] = []
