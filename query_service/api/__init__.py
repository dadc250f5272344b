"""REST routers of the query service."""

from fastapi import APIRouter

from query_service.api import query

routers: list[APIRouter] = [query.router]
