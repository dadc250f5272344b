"""The audit log: every change a tenant's admin makes, append-only.

One row per change: who (`api_key:<id>`, `jwt:<subject>`), when, what (`agent.updated`, `api_key.revoked`, ...),
on which object, the changed fields before and after (never a secret) and the request's trace id. The
application role may read and insert, never update or delete; a trigger refuses updates and deletes to every
role, so a row once written stays as written. Row-level security like every tenant table.

Revision ID: 0012
"""

from alembic import op

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None

APP_ROLE = "nooble4_app"


def upgrade() -> None:
    op.execute(
        """
        CREATE TABLE audit_log (
            id bigserial PRIMARY KEY,
            tenant_id varchar(36) NOT NULL,
            occurred_at timestamptz NOT NULL DEFAULT now(),
            actor varchar(200) NOT NULL,
            action varchar(64) NOT NULL,
            target_type varchar(32) NOT NULL,
            target_id varchar(200),
            changes jsonb NOT NULL DEFAULT '{}'::jsonb,
            trace_id varchar(32)
        )
        """
    )
    op.execute("CREATE INDEX ix_audit_log_tenant_time ON audit_log (tenant_id, occurred_at DESC, id DESC)")
    op.execute(f"GRANT SELECT, INSERT ON audit_log TO {APP_ROLE}")
    op.execute(f"GRANT USAGE, SELECT ON SEQUENCE audit_log_id_seq TO {APP_ROLE}")
    op.execute("ALTER TABLE audit_log ENABLE ROW LEVEL SECURITY")
    op.execute("ALTER TABLE audit_log FORCE ROW LEVEL SECURITY")
    op.execute(
        "CREATE POLICY tenant_isolation ON audit_log "
        "USING (tenant_id = current_setting('nooble4.tenant_id', true)) "
        "WITH CHECK (tenant_id = current_setting('nooble4.tenant_id', true))"
    )
    op.execute("CREATE POLICY owner_access ON audit_log TO CURRENT_USER USING (true) WITH CHECK (true)")
    op.execute(
        """
        CREATE FUNCTION audit_log_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN RAISE EXCEPTION 'the audit log is append-only'; END $$
        """
    )
    op.execute(
        "CREATE TRIGGER audit_log_append_only BEFORE UPDATE OR DELETE ON audit_log "
        "FOR EACH ROW EXECUTE FUNCTION audit_log_append_only()"
    )


def downgrade() -> None:
    op.execute("DROP TABLE audit_log")
    op.execute("DROP FUNCTION audit_log_append_only()")
