"""REST routers of the management service."""

from fastapi import APIRouter

from agent_management_service.api import (
    agents,
    audit,
    end_users,
    mcp_servers,
    models,
    templates,
    tenants,
    usage,
    webhooks,
)

routers: list[APIRouter] = [
    tenants.router,
    agents.router,
    templates.router,
    end_users.router,
    models.router,
    usage.router,
    audit.router,
    webhooks.router,
    mcp_servers.router,
]
