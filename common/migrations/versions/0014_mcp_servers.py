"""A tenant's MCP servers: name (an agent enables `server name` + tool), URL, transport, headers encrypted
(common.secret_box; the header names alone in clear, to show), the tools last listed and when, the last
listing's error. Removed servers are disabled, not deleted. Agents keep the tools they enable in
`agents.mcp_tools`. Row-level security like every tenant table.

Revision ID: 0014
"""

from alembic import op

revision = "0014"
down_revision = "0013"
branch_labels = None
depends_on = None

APP_ROLE = "nooble4_app"


def upgrade() -> None:
    op.execute(
        """
        CREATE TABLE mcp_servers (
            id varchar(36) PRIMARY KEY,
            tenant_id varchar(36) NOT NULL,
            name varchar(40) NOT NULL,
            url text NOT NULL,
            transport varchar(16) NOT NULL,
            header_names jsonb NOT NULL DEFAULT '[]'::jsonb,
            headers_sealed text,
            tools jsonb NOT NULL DEFAULT '[]'::jsonb,
            tools_listed_at timestamptz,
            last_error text,
            created_at timestamptz NOT NULL DEFAULT now(),
            disabled_at timestamptz
        )
        """
    )
    op.execute("CREATE UNIQUE INDEX ux_mcp_servers_name ON mcp_servers (tenant_id, name) WHERE disabled_at IS NULL")
    op.execute(f"GRANT SELECT, INSERT, UPDATE ON mcp_servers TO {APP_ROLE}")
    op.execute("ALTER TABLE mcp_servers ENABLE ROW LEVEL SECURITY")
    op.execute("ALTER TABLE mcp_servers FORCE ROW LEVEL SECURITY")
    op.execute(
        "CREATE POLICY tenant_isolation ON mcp_servers "
        "USING (tenant_id = current_setting('nooble4.tenant_id', true)) "
        "WITH CHECK (tenant_id = current_setting('nooble4.tenant_id', true))"
    )
    op.execute("CREATE POLICY owner_access ON mcp_servers TO CURRENT_USER USING (true) WITH CHECK (true)")
    op.execute("ALTER TABLE agents ADD COLUMN mcp_tools jsonb NOT NULL DEFAULT '[]'::jsonb")
    op.execute("ALTER TABLE agents ADD COLUMN http_allowed_hosts jsonb NOT NULL DEFAULT '[]'::jsonb")


def downgrade() -> None:
    op.execute("ALTER TABLE agents DROP COLUMN http_allowed_hosts")
    op.execute("ALTER TABLE agents DROP COLUMN mcp_tools")
    op.execute("DROP TABLE mcp_servers")
