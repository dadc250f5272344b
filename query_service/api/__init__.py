"""REST routers of the query service."""

from fastapi import APIRouter

routers: list[APIRouter] = []
