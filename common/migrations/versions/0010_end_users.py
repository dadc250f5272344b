"""End users: short-lived tokens a tenant's backend mints for one agent and one of its own users; the origins
allowed to embed the chat widget; conversations keyed by end user; answers cut short kept and marked.

- `end_user_tokens`: the token's SHA-256 (never the token), its agent, end user, expiry, revocation and the
  optional request budget; row-level security like every tenant table.
- `tenants.allowed_origins`: the web origins that may embed the widget and call the chat API from a browser.
- `conversations.user_id` is renamed `end_user_id` (what it always held: the tenant's own user id) and indexed
  for the console's filter.
- `messages.incomplete`: an answer that stopped before its end (the turn's time limit) is kept, marked.
- `api_keys.expires_at` and `api_keys.scopes` (`admin`, `read`, `chat`): keys that end, and keys narrower than
  the whole tenant; existing keys stay `admin` and never expire.
- `documents.error_retryable`: whether a failed document may pass on another try (a dependency gave up) or
  not (an empty, corrupt or unsupported file): the console offers Retry only for the first.

Revision ID: 0010
"""

from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None

APP_ROLE = "nooble4_app"


def upgrade() -> None:
    op.execute(
        """
        CREATE TABLE end_user_tokens (
            id varchar(36) PRIMARY KEY,
            tenant_id varchar(36) NOT NULL,
            agent_id varchar(36) NOT NULL,
            end_user_id varchar(128) NOT NULL,
            token_hash varchar(64) NOT NULL UNIQUE,
            request_budget integer,
            created_at timestamptz NOT NULL DEFAULT now(),
            expires_at timestamptz NOT NULL,
            revoked_at timestamptz
        )
        """
    )
    op.execute("CREATE INDEX ix_end_user_tokens_tenant_user ON end_user_tokens (tenant_id, end_user_id)")
    op.execute(f"GRANT SELECT, INSERT, UPDATE, DELETE ON end_user_tokens TO {APP_ROLE}")
    op.execute("ALTER TABLE end_user_tokens ENABLE ROW LEVEL SECURITY")
    op.execute("ALTER TABLE end_user_tokens FORCE ROW LEVEL SECURITY")
    op.execute(
        "CREATE POLICY tenant_isolation ON end_user_tokens "
        "USING (tenant_id = current_setting('nooble4.tenant_id', true)) "
        "WITH CHECK (tenant_id = current_setting('nooble4.tenant_id', true))"
    )
    op.execute("CREATE POLICY owner_access ON end_user_tokens TO CURRENT_USER USING (true) WITH CHECK (true)")
    op.execute("ALTER TABLE tenants ADD COLUMN allowed_origins jsonb NOT NULL DEFAULT '[]'::jsonb")
    op.execute("ALTER TABLE conversations RENAME COLUMN user_id TO end_user_id")
    op.execute("CREATE INDEX ix_conversations_end_user ON conversations (tenant_id, end_user_id, updated_at)")
    op.execute("ALTER TABLE messages ADD COLUMN incomplete boolean NOT NULL DEFAULT false")
    op.execute("ALTER TABLE documents ADD COLUMN error_retryable boolean NOT NULL DEFAULT false")
    op.execute("ALTER TABLE api_keys ADD COLUMN expires_at timestamptz")
    op.execute("""ALTER TABLE api_keys ADD COLUMN scopes jsonb NOT NULL DEFAULT '["admin"]'::jsonb""")


def downgrade() -> None:
    op.execute("ALTER TABLE api_keys DROP COLUMN scopes")
    op.execute("ALTER TABLE api_keys DROP COLUMN expires_at")
    op.execute("ALTER TABLE documents DROP COLUMN error_retryable")
    op.execute("ALTER TABLE messages DROP COLUMN incomplete")
    op.execute("DROP INDEX ix_conversations_end_user")
    op.execute("ALTER TABLE conversations RENAME COLUMN end_user_id TO user_id")
    op.execute("ALTER TABLE tenants DROP COLUMN allowed_origins")
    op.execute("DROP TABLE end_user_tokens")
