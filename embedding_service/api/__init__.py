"""REST routers of the embedding service."""

from fastapi import APIRouter

routers: list[APIRouter] = []
