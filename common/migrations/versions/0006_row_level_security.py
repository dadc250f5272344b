"""Row-level security on every tenant-owned table (defence in depth).

Tenant-scoped work (a REST request of a tenant, an action of a tenant) runs its transactions as the
`nooble4_app` role with `nooble4.tenant_id` set for the transaction (`common.tenancy`), and these policies
let it see and write only that tenant's rows: a query that forgets `WHERE tenant_id = ...` returns nothing
of another tenant instead of leaking it. System work (migrations, the tenant CLI, API-key resolution by
hash, the ingestion sweeper) runs as the connecting role, as before.

A new tenant-owned table must be added to TENANT_TABLES of a new migration the same way.

Revision ID: 0006
"""

from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None

APP_ROLE = "nooble4_app"
# table -> its tenant column
TENANT_TABLES = {
    "tenants": "id",
    "api_keys": "tenant_id",
    "agents": "tenant_id",
    "conversations": "tenant_id",
    "messages": "tenant_id",
    "collections": "tenant_id",
    "documents": "tenant_id",
    "ingestion_tasks": "tenant_id",
    "chunks": "tenant_id",
}


def upgrade() -> None:
    # the role is cluster-wide: create it once (NOLOGIN: it is only ever SET by the application's own login)
    op.execute(
        f"""
        DO $$ BEGIN
          IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = '{APP_ROLE}') THEN
            CREATE ROLE {APP_ROLE} NOLOGIN NOBYPASSRLS;
          END IF;
        END $$;
        """
    )
    op.execute(f"DO $$ BEGIN EXECUTE format('GRANT {APP_ROLE} TO %I', current_user); END $$;")
    op.execute(f"DO $$ BEGIN EXECUTE format('GRANT USAGE ON SCHEMA %I TO {APP_ROLE}', current_schema()); END $$;")
    for table, column in TENANT_TABLES.items():
        op.execute(f"GRANT SELECT, INSERT, UPDATE, DELETE ON {table} TO {APP_ROLE}")
        op.execute(f"ALTER TABLE {table} ENABLE ROW LEVEL SECURITY")
        op.execute(f"ALTER TABLE {table} FORCE ROW LEVEL SECURITY")
        op.execute(
            f"CREATE POLICY tenant_isolation ON {table} "
            f"USING ({column} = current_setting('nooble4.tenant_id', true)) "
            f"WITH CHECK ({column} = current_setting('nooble4.tenant_id', true))"
        )
        # the connecting role (owner) keeps full access for system work; FORCE only binds other roles' rows
        op.execute(f"CREATE POLICY owner_access ON {table} TO CURRENT_USER USING (true) WITH CHECK (true)")
    op.execute(
        f"DO $$ BEGIN EXECUTE format('GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA %I TO {APP_ROLE}', "
        "current_schema()); END $$;"
    )


def downgrade() -> None:
    for table in TENANT_TABLES:
        op.execute(f"DROP POLICY IF EXISTS owner_access ON {table}")
        op.execute(f"DROP POLICY IF EXISTS tenant_isolation ON {table}")
        op.execute(f"ALTER TABLE {table} NO FORCE ROW LEVEL SECURITY")
        op.execute(f"ALTER TABLE {table} DISABLE ROW LEVEL SECURITY")
        op.execute(f"REVOKE ALL ON {table} FROM {APP_ROLE}")
