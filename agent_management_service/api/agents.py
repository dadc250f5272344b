from typing import Annotated

from fastapi import APIRouter, Query, status

from agent_management_service.clients.ingestion_client import IngestionClient
from agent_management_service.deps import Deps
from agent_management_service.models.agents import AgentCreate, AgentUpdate, FromTemplate
from agent_management_service.services import agents
from agent_management_service.services.agent_config import agent_changed
from agent_management_service.services.templates import TEMPLATES
from common.audit import Audit
from common.auth import CurrentTenant
from common.contracts.management import AgentOut
from common.errors import NotFoundError
from common.models.pagination import Page

router = APIRouter(prefix="/api/v1/agents", tags=["agents"])


async def check_collections(deps: Deps, tenant: CurrentTenant, collection_ids: list[str] | None) -> None:
    """An agent may only search collections of its own tenant."""
    await IngestionClient(deps.redis, deps.settings, "management").check_collections(tenant, collection_ids or [])


@router.post("", status_code=status.HTTP_201_CREATED)
async def create(body: AgentCreate, tenant: CurrentTenant, deps: Deps, audit: Audit) -> AgentOut:
    """Create an agent.

    Prompt, model, tools, knowledge collections and memory; the tier's caps on agents and model providers apply
    (403), and every named collection must be the tenant's own (422 `unknown_collection`)."""
    await check_collections(deps, tenant, body.collection_ids)
    await deps.mcp.check_refs(tenant.tenant_id, body.mcp_tools)
    agent = await agents.create_agent(deps.engine, tenant, body)
    await audit.record("agent.created", "agent", agent.id, after=agent)
    return agent


@router.post("/from-template", status_code=status.HTTP_201_CREATED)
async def create_from_template(body: FromTemplate, tenant: CurrentTenant, deps: Deps, audit: Audit) -> AgentOut:
    """Create an agent from a template.

    Fields given in the body override the template's; the same caps and checks as creating an agent apply."""
    template = TEMPLATES.get(body.template_id)
    if template is None:
        raise NotFoundError(
            f"no template {body.template_id!r}", code="template_not_found", details={"templates": sorted(TEMPLATES)}
        )
    await check_collections(deps, tenant, body.collection_ids)
    agent = template.agent.model_copy(
        update={"collection_ids": body.collection_ids, "name": body.name or template.agent.name}
    )
    created = await agents.create_agent(deps.engine, tenant, agent)
    await audit.record("agent.created", "agent", created.id, after=created)
    return created


@router.get("")
async def list_(
    tenant: CurrentTenant,
    deps: Deps,
    limit: Annotated[int, Query(ge=1, le=100)] = 20,
    offset: Annotated[int, Query(ge=0)] = 0,
) -> Page[AgentOut]:
    """List the tenant's agents.

    Newest first, paged with `limit` and `offset`; deleted agents are not listed."""
    return await agents.list_agents(deps.engine, tenant.tenant_id, limit, offset)


@router.get("/{agent_id}")
async def get(agent_id: str, tenant: CurrentTenant, deps: Deps) -> AgentOut:
    """Get one agent.

    404 when it does not exist or belongs to another tenant."""
    return await agents.get_agent(deps.engine, tenant.tenant_id, agent_id)


@router.patch("/{agent_id}")
async def update(agent_id: str, body: AgentUpdate, tenant: CurrentTenant, deps: Deps, audit: Audit) -> AgentOut:
    """Update an agent (PATCH).

    Only the fields sent change; `null` is refused (422). Running chat sessions see the change on their next turn."""
    await check_collections(deps, tenant, body.collection_ids)
    await deps.mcp.check_refs(tenant.tenant_id, body.mcp_tools or [])
    before = await agents.get_agent(deps.engine, tenant.tenant_id, agent_id)
    agent = await agents.update_agent(deps.engine, tenant, agent_id, body)
    await agent_changed(deps.redis, deps.queues, tenant.tenant_id, agent_id)
    await audit.record("agent.updated", "agent", agent_id, before=before, after=agent)
    return agent


@router.delete("/{agent_id}", status_code=status.HTTP_204_NO_CONTENT)
async def delete(agent_id: str, tenant: CurrentTenant, deps: Deps, audit: Audit) -> None:
    """Delete an agent.

    A soft delete: the agent disappears from lists and new sessions; its conversations stay."""
    before = await agents.get_agent(deps.engine, tenant.tenant_id, agent_id)
    await agents.delete_agent(deps.engine, tenant.tenant_id, agent_id)
    await agent_changed(deps.redis, deps.queues, tenant.tenant_id, agent_id)
    await audit.record("agent.deleted", "agent", agent_id, before=before)
