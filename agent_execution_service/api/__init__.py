"""REST routers of the execution service."""

from fastapi import APIRouter

routers: list[APIRouter] = []
