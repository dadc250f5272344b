from fastapi import APIRouter

from agent_management_service.models.agents import Template
from agent_management_service.services.templates import TEMPLATES
from common.auth import CurrentTenant

router = APIRouter(prefix="/api/v1/templates", tags=["templates"])


@router.get("")
async def list_templates(tenant: CurrentTenant) -> list[Template]:
    """List agent templates.

    Customer support, knowledge-base Q&A, sales assistant and general assistant, with their defaults."""
    return list(TEMPLATES.values())
