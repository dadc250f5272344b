"""The usage ledger and token budgets.

- `usage_events`: one row per ledger entry (a chat turn's model calls, a generate call, an embedding request),
  keyed by (tenant, event id) so a redelivered record is stored once; append-only for the application role.
- `usage_daily`: the ledger summed per UTC day, kind, provider, model, agent and end user ('' where none),
  updated in the same statement as the events it sums.
- `tenants.token_budget`, `agents.budget`: tokens per day and per month (`{}`: none of its own).

Row-level security like every tenant table.

Revision ID: 0011
"""

from alembic import op

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None

APP_ROLE = "nooble4_app"


def _tenant_table(table: str, grants: str) -> None:
    op.execute(f"GRANT {grants} ON {table} TO {APP_ROLE}")
    op.execute(f"ALTER TABLE {table} ENABLE ROW LEVEL SECURITY")
    op.execute(f"ALTER TABLE {table} FORCE ROW LEVEL SECURITY")
    op.execute(
        f"CREATE POLICY tenant_isolation ON {table} "
        "USING (tenant_id = current_setting('nooble4.tenant_id', true)) "
        "WITH CHECK (tenant_id = current_setting('nooble4.tenant_id', true))"
    )
    op.execute(f"CREATE POLICY owner_access ON {table} TO CURRENT_USER USING (true) WITH CHECK (true)")


def upgrade() -> None:
    op.execute(
        """
        CREATE TABLE usage_events (
            tenant_id varchar(36) NOT NULL,
            event_id varchar(100) NOT NULL,
            occurred_at timestamptz NOT NULL,
            kind varchar(16) NOT NULL,
            provider varchar(32) NOT NULL,
            model varchar(100) NOT NULL,
            agent_id varchar(64),
            end_user_id varchar(128),
            conversation_id varchar(64),
            task_id varchar(64),
            prompt_tokens bigint NOT NULL,
            completion_tokens bigint NOT NULL,
            calls integer NOT NULL,
            latency_ms double precision NOT NULL,
            outcome varchar(32) NOT NULL,
            recorded_at timestamptz NOT NULL DEFAULT now(),
            PRIMARY KEY (tenant_id, event_id)
        )
        """
    )
    op.execute("CREATE INDEX ix_usage_events_tenant_time ON usage_events (tenant_id, occurred_at)")
    _tenant_table("usage_events", "SELECT, INSERT")
    op.execute(
        """
        CREATE TABLE usage_daily (
            tenant_id varchar(36) NOT NULL,
            day date NOT NULL,
            kind varchar(16) NOT NULL,
            provider varchar(32) NOT NULL,
            model varchar(100) NOT NULL,
            agent_id varchar(64) NOT NULL,
            end_user_id varchar(128) NOT NULL,
            events bigint NOT NULL,
            calls bigint NOT NULL,
            prompt_tokens bigint NOT NULL,
            completion_tokens bigint NOT NULL,
            latency_ms double precision NOT NULL,
            PRIMARY KEY (tenant_id, day, kind, provider, model, agent_id, end_user_id)
        )
        """
    )
    _tenant_table("usage_daily", "SELECT, INSERT, UPDATE")
    op.execute("ALTER TABLE tenants ADD COLUMN token_budget jsonb NOT NULL DEFAULT '{}'::jsonb")
    op.execute("ALTER TABLE agents ADD COLUMN budget jsonb NOT NULL DEFAULT '{}'::jsonb")


def downgrade() -> None:
    op.execute("ALTER TABLE agents DROP COLUMN budget")
    op.execute("ALTER TABLE tenants DROP COLUMN token_budget")
    op.execute("DROP TABLE usage_daily")
    op.execute("DROP TABLE usage_events")
