"""Signed webhooks: a tenant's endpoints, each delivery and each attempt.

- `webhook_endpoints`: URL, the event types it wants, its signing secret encrypted (common.secret_box), and
  when it was disabled (deleted endpoints are kept for their delivery log).
- `webhook_deliveries`: one per (endpoint, event), its id the Standard Webhooks `webhook-id`; pending until
  delivered or given up, with the next attempt's time.
- `webhook_attempts`: every try (status code or error, duration): the delivery log the console shows.

Row-level security like every tenant table.

Revision ID: 0013
"""

from alembic import op

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None

APP_ROLE = "nooble4_app"
TABLES = ("webhook_endpoints", "webhook_deliveries", "webhook_attempts")


def upgrade() -> None:
    op.execute(
        """
        CREATE TABLE webhook_endpoints (
            id varchar(36) PRIMARY KEY,
            tenant_id varchar(36) NOT NULL,
            url text NOT NULL,
            description text NOT NULL DEFAULT '',
            event_types jsonb NOT NULL,
            secret_sealed text NOT NULL,
            created_at timestamptz NOT NULL DEFAULT now(),
            disabled_at timestamptz
        )
        """
    )
    op.execute("CREATE INDEX ix_webhook_endpoints_tenant ON webhook_endpoints (tenant_id) WHERE disabled_at IS NULL")
    op.execute(
        """
        CREATE TABLE webhook_deliveries (
            id varchar(36) PRIMARY KEY,
            tenant_id varchar(36) NOT NULL,
            endpoint_id varchar(36) NOT NULL REFERENCES webhook_endpoints (id),
            event_type varchar(64) NOT NULL,
            event_id varchar(120) NOT NULL,
            payload jsonb NOT NULL,
            status varchar(16) NOT NULL DEFAULT 'pending',
            attempts integer NOT NULL DEFAULT 0,
            last_status integer,
            last_error text,
            next_attempt_at timestamptz,
            created_at timestamptz NOT NULL DEFAULT now(),
            delivered_at timestamptz,
            UNIQUE (endpoint_id, event_id)
        )
        """
    )
    op.execute("CREATE INDEX ix_webhook_deliveries_endpoint ON webhook_deliveries (tenant_id, endpoint_id, created_at)")
    op.execute(
        """
        CREATE TABLE webhook_attempts (
            id bigserial PRIMARY KEY,
            tenant_id varchar(36) NOT NULL,
            delivery_id varchar(36) NOT NULL REFERENCES webhook_deliveries (id),
            attempted_at timestamptz NOT NULL DEFAULT now(),
            status_code integer,
            error text,
            duration_ms double precision NOT NULL
        )
        """
    )
    op.execute("CREATE INDEX ix_webhook_attempts_delivery ON webhook_attempts (delivery_id, id)")
    for table in TABLES:
        op.execute(f"GRANT SELECT, INSERT, UPDATE ON {table} TO {APP_ROLE}")
        op.execute(f"ALTER TABLE {table} ENABLE ROW LEVEL SECURITY")
        op.execute(f"ALTER TABLE {table} FORCE ROW LEVEL SECURITY")
        op.execute(
            f"CREATE POLICY tenant_isolation ON {table} "
            "USING (tenant_id = current_setting('nooble4.tenant_id', true)) "
            "WITH CHECK (tenant_id = current_setting('nooble4.tenant_id', true))"
        )
        op.execute(f"CREATE POLICY owner_access ON {table} TO CURRENT_USER USING (true) WITH CHECK (true)")
    op.execute(f"GRANT USAGE, SELECT ON SEQUENCE webhook_attempts_id_seq TO {APP_ROLE}")


def downgrade() -> None:
    for table in reversed(TABLES):
        op.execute(f"DROP TABLE {table}")
