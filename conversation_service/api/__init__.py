"""REST routers of the conversation service."""

from fastapi import APIRouter

routers: list[APIRouter] = []
