"""REST routers of the ingestion service."""

from fastapi import APIRouter

routers: list[APIRouter] = []
