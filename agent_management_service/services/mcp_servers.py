"""A tenant's MCP servers: registered with their headers sealed (common.secret_box), their tools listed through
the SDK (common.mcp_client) on registration, on demand and on a schedule, and resolved into the bindings an
agent's config carries to the execution service (the headers still sealed)."""

from __future__ import annotations

import asyncio
import json
import uuid
from collections.abc import Awaitable, Callable
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncEngine

from agent_management_service.models.mcp_servers import McpServerCreate, McpServerOut
from agent_management_service.models.tables import mcp_servers
from agent_management_service.settings import ManagementSettings
from common.contracts.management import McpToolBinding, McpToolRef
from common.errors import ConflictError, NotFoundError, ValidationError
from common.log import get_logger
from common.mcp_client import McpError, McpToolInfo, list_tools
from common.outbound import check_outbound_url, networks
from common.secret_box import secret_box
from common.tasks import sleep_unless
from common.tenancy import tenant_scope

log = get_logger(__name__)
OUT_COLUMNS = [c for c in mcp_servers.c if c.name not in {"tenant_id", "headers_sealed", "disabled_at"}]


def _alive(tenant_id: str) -> Any:
    return sa.and_(mcp_servers.c.tenant_id == tenant_id, mcp_servers.c.disabled_at.is_(None))


class McpServers:
    def __init__(self, engine: AsyncEngine, settings: ManagementSettings, changed: Callable[[str], Awaitable[None]]):
        """`changed(tenant_id)`: a tenant's servers or their tools changed (its agents' configs carry them)."""
        self.engine = engine
        self.settings = settings
        self.changed = changed
        self.allowed = networks(settings.outbound_allowed_networks)

    async def register(self, tenant_id: str, body: McpServerCreate) -> McpServerOut:
        """Stored (headers sealed), then its tools listed; a server that cannot be listed is kept with the error."""
        await check_outbound_url(body.url, self.allowed)
        sealed = secret_box(self.settings).seal(json.dumps(body.headers), tenant_id) if body.headers else None
        server_id = str(uuid.uuid4())
        try:
            async with self.engine.begin() as conn:
                await conn.execute(
                    mcp_servers.insert().values(
                        id=server_id,
                        tenant_id=tenant_id,
                        name=body.name,
                        url=body.url,
                        transport=body.transport,
                        header_names=sorted(body.headers),
                        headers_sealed=sealed,
                    )
                )
        except sa.exc.IntegrityError:
            raise ConflictError(f"an MCP server named {body.name!r} exists", code="mcp_server_exists") from None
        return await self.refresh(tenant_id, server_id)

    async def list_servers(self, tenant_id: str) -> list[McpServerOut]:
        async with self.engine.connect() as conn:
            rows = await conn.execute(sa.select(*OUT_COLUMNS).where(_alive(tenant_id)).order_by(mcp_servers.c.name))
        return [McpServerOut.model_validate(r._asdict()) for r in rows]

    async def get(self, tenant_id: str, server_id: str) -> McpServerOut:
        async with self.engine.connect() as conn:
            row = (
                await conn.execute(sa.select(*OUT_COLUMNS).where(_alive(tenant_id), mcp_servers.c.id == server_id))
            ).one_or_none()
        if row is None:
            raise NotFoundError("MCP server not found", code="mcp_server_not_found")
        return McpServerOut.model_validate(row._asdict())

    async def remove(self, tenant_id: str, server_id: str) -> McpServerOut:
        removed = await self.get(tenant_id, server_id)
        async with self.engine.begin() as conn:
            await conn.execute(
                mcp_servers.update()
                .where(_alive(tenant_id), mcp_servers.c.id == server_id)
                .values(disabled_at=sa.func.now())
            )
        await self.changed(tenant_id)
        return removed

    async def refresh(self, tenant_id: str, server_id: str) -> McpServerOut:
        """Lists the server's tools again (its last good listing stays when this one fails)."""
        async with self.engine.connect() as conn:
            row = (
                await conn.execute(sa.select(mcp_servers).where(_alive(tenant_id), mcp_servers.c.id == server_id))
            ).one_or_none()
        if row is None:
            raise NotFoundError("MCP server not found", code="mcp_server_not_found")
        values: dict[str, Any]
        try:
            headers = self._headers(row)
            tools = await list_tools(row.url, row.transport, headers, self.allowed, self.settings.mcp_timeout_s)
            values = {"tools": [t.model_dump() for t in tools], "tools_listed_at": sa.func.now(), "last_error": None}
        except (McpError, ValidationError) as exc:
            values = {"last_error": str(exc) if isinstance(exc, McpError) else exc.message}
        async with self.engine.begin() as conn:
            await conn.execute(mcp_servers.update().where(mcp_servers.c.id == server_id).values(**values))
        if "tools" in values and values["tools"] != row.tools:
            await self.changed(tenant_id)
        return await self.get(tenant_id, server_id)

    def _headers(self, row: Any) -> dict[str, str]:
        if not row.headers_sealed:
            return {}
        return dict(json.loads(secret_box(self.settings).open(row.headers_sealed, row.tenant_id)))

    async def check_refs(self, tenant_id: str, refs: list[McpToolRef]) -> None:
        """422 `unknown_mcp_tool` unless every tool named is listed by a server of the tenant."""
        known = await self._tools_by_server(tenant_id)
        for ref in refs:
            if ref.tool not in known.get(ref.server, {}):
                raise ValidationError(
                    f"no tool {ref.tool!r} on an MCP server named {ref.server!r} of this tenant",
                    code="unknown_mcp_tool",
                    details={"servers": {name: sorted(tools) for name, tools in known.items()}},
                )

    async def bindings(self, tenant_id: str, refs: list[McpToolRef]) -> list[McpToolBinding]:
        """The enabled tools still listed by a live server, ready to call (headers sealed)."""
        if not refs:
            return []
        async with self.engine.connect() as conn:
            rows = {r.name: r for r in await conn.execute(sa.select(mcp_servers).where(_alive(tenant_id)))}
        found = []
        for ref in refs:
            row = rows.get(ref.server)
            tool = (
                next((McpToolInfo.model_validate(t) for t in row.tools if t["name"] == ref.tool), None) if row else None
            )
            if row is None or tool is None:
                continue
            found.append(
                McpToolBinding(
                    server=ref.server,
                    tool=ref.tool,
                    description=tool.description,
                    input_schema=tool.input_schema,
                    url=row.url,
                    transport=row.transport,
                    headers_sealed=row.headers_sealed,
                )
            )
        return found

    async def _tools_by_server(self, tenant_id: str) -> dict[str, set[str]]:
        async with self.engine.connect() as conn:
            rows = await conn.execute(sa.select(mcp_servers.c.name, mcp_servers.c.tools).where(_alive(tenant_id)))
        return {row.name: {t["name"] for t in row.tools} for row in rows}

    async def refresh_all(self, stopping: asyncio.Event) -> None:
        """Every live server's tools listed again every `mcp_refresh_interval_s` (each replica's worker)."""
        while True:
            await sleep_unless(stopping, self.settings.mcp_refresh_interval_s)
            if stopping.is_set():
                return
            with tenant_scope(None):
                async with self.engine.connect() as conn:
                    servers = (
                        await conn.execute(
                            sa.select(mcp_servers.c.tenant_id, mcp_servers.c.id).where(
                                mcp_servers.c.disabled_at.is_(None)
                            )
                        )
                    ).all()
            for tenant_id, server_id in servers:
                with tenant_scope(tenant_id):
                    try:
                        await self.refresh(tenant_id, server_id)
                    except NotFoundError:
                        continue
