"""REST routers of the management service."""

from fastapi import APIRouter

routers: list[APIRouter] = []
