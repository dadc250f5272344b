"""REST and WebSocket routers of the ingestion service."""

from fastapi import APIRouter

from ingestion_service.api import collections, documents, tasks

routers: list[APIRouter] = [collections.router, documents.router, tasks.router]
