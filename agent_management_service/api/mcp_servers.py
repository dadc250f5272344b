from fastapi import APIRouter, status

from agent_management_service.deps import Deps
from agent_management_service.models.mcp_servers import McpServerCreate, McpServerOut
from common.audit import Audit
from common.auth import CurrentTenant

router = APIRouter(prefix="/api/v1/mcp-servers", tags=["MCP servers"])


@router.post("", status_code=status.HTTP_201_CREATED)
async def register(body: McpServerCreate, tenant: CurrentTenant, deps: Deps, audit: Audit) -> McpServerOut:
    """Register an MCP server.

    Streamable HTTP (or SSE, for servers that only have it), with optional headers sent on every request
    (stored encrypted; never returned, logged or sent over Redis in clear). Its tools are listed at once (a
    server that cannot be reached is kept, with `last_error`); agents then enable tools by name
    (`mcp_tools: [{"server", "tool"}]`). Private and link-local addresses are refused (422 `url_not_allowed`)
    unless the operator allows their network."""
    server = await deps.mcp.register(tenant.tenant_id, body)
    await audit.record("mcp_server.registered", "mcp_server", server.id, after=server.model_dump(exclude={"tools"}))
    return server


@router.get("")
async def list_(tenant: CurrentTenant, deps: Deps) -> list[McpServerOut]:
    """List the MCP servers.

    With the tools each listed last, and the error of its last listing, if any."""
    return await deps.mcp.list_servers(tenant.tenant_id)


@router.get("/{server_id}")
async def get(server_id: str, tenant: CurrentTenant, deps: Deps) -> McpServerOut:
    """Get one MCP server.

    404 when it does not exist or belongs to another tenant."""
    return await deps.mcp.get(tenant.tenant_id, server_id)


@router.post("/{server_id}/refresh")
async def refresh(server_id: str, tenant: CurrentTenant, deps: Deps) -> McpServerOut:
    """List the server's tools again (a test of the connection).

    Also done every hour by itself. A failed listing keeps the last good one and says why in `last_error`."""
    return await deps.mcp.refresh(tenant.tenant_id, server_id)


@router.delete("/{server_id}", status_code=status.HTTP_204_NO_CONTENT)
async def remove(server_id: str, tenant: CurrentTenant, deps: Deps, audit: Audit) -> None:
    """Remove an MCP server.

    Agents stop being given its tools from their next turn."""
    removed = await deps.mcp.remove(tenant.tenant_id, server_id)
    await audit.record("mcp_server.removed", "mcp_server", server_id, before=removed.model_dump(exclude={"tools"}))
