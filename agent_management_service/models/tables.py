"""The management service's tables (created by migration 0002); every query filters by tenant_id."""

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import JSONB

metadata = sa.MetaData()

tenants = sa.Table(
    "tenants",
    metadata,
    sa.Column("id", sa.String(36), primary_key=True),
    sa.Column("name", sa.Text, nullable=False),
    sa.Column("tier", sa.String(16), nullable=False),
    sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.func.now()),
    sa.Column("disabled_at", sa.DateTime(timezone=True)),
    sa.Column("allowed_origins", JSONB, nullable=False, server_default=sa.text("'[]'::jsonb")),  # migration 0010
    sa.Column("token_budget", JSONB, nullable=False, server_default=sa.text("'{}'::jsonb")),  # migration 0011
)

end_user_tokens = sa.Table(  # migration 0010
    "end_user_tokens",
    metadata,
    sa.Column("id", sa.String(36), primary_key=True),
    sa.Column("tenant_id", sa.String(36), nullable=False),
    sa.Column("agent_id", sa.String(36), nullable=False),
    sa.Column("end_user_id", sa.String(128), nullable=False),
    sa.Column("token_hash", sa.String(64), nullable=False),
    sa.Column("request_budget", sa.Integer),
    sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.func.now()),
    sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("revoked_at", sa.DateTime(timezone=True)),
)

api_keys = sa.Table(
    "api_keys",
    metadata,
    sa.Column("id", sa.String(36), primary_key=True),
    sa.Column("tenant_id", sa.String(36), nullable=False),
    sa.Column("name", sa.Text, nullable=False),
    sa.Column("prefix", sa.String(16), nullable=False),
    sa.Column("key_hash", sa.String(64), nullable=False),
    sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.func.now()),
    sa.Column("last_used_at", sa.DateTime(timezone=True)),
    sa.Column("revoked_at", sa.DateTime(timezone=True)),
    sa.Column("expires_at", sa.DateTime(timezone=True)),  # migration 0010
    sa.Column("scopes", JSONB, nullable=False, server_default=sa.text("""'["admin"]'::jsonb""")),
)

agents = sa.Table(
    "agents",
    metadata,
    sa.Column("id", sa.String(36), primary_key=True),
    sa.Column("tenant_id", sa.String(36), nullable=False),
    sa.Column("name", sa.Text, nullable=False),
    sa.Column("description", sa.Text, nullable=False),
    sa.Column("system_prompt", sa.Text, nullable=False),
    sa.Column("model", JSONB, nullable=False),
    sa.Column("tools", JSONB, nullable=False),
    sa.Column("collection_ids", JSONB, nullable=False),
    sa.Column("knowledge", JSONB, nullable=False, server_default=sa.text("'{}'::jsonb")),  # migration 0009
    sa.Column("memory", JSONB, nullable=False),
    sa.Column("budget", JSONB, nullable=False, server_default=sa.text("'{}'::jsonb")),  # migration 0011
    sa.Column("mcp_tools", JSONB, nullable=False, server_default=sa.text("'[]'::jsonb")),  # migration 0014
    sa.Column("http_allowed_hosts", JSONB, nullable=False, server_default=sa.text("'[]'::jsonb")),  # 0014
    sa.Column("is_active", sa.Boolean, nullable=False),
    sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.func.now()),
    sa.Column("updated_at", sa.DateTime(timezone=True), server_default=sa.func.now()),
    sa.Column("deleted_at", sa.DateTime(timezone=True)),
)

usage_events = sa.Table(  # migration 0011: the usage ledger, append-only
    "usage_events",
    metadata,
    sa.Column("tenant_id", sa.String(36), primary_key=True),
    sa.Column("event_id", sa.String(100), primary_key=True),
    sa.Column("occurred_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("kind", sa.String(16), nullable=False),
    sa.Column("provider", sa.String(32), nullable=False),
    sa.Column("model", sa.String(100), nullable=False),
    sa.Column("agent_id", sa.String(64)),
    sa.Column("end_user_id", sa.String(128)),
    sa.Column("conversation_id", sa.String(64)),
    sa.Column("task_id", sa.String(64)),
    sa.Column("prompt_tokens", sa.BigInteger, nullable=False),
    sa.Column("completion_tokens", sa.BigInteger, nullable=False),
    sa.Column("calls", sa.Integer, nullable=False),
    sa.Column("latency_ms", sa.Float, nullable=False),
    sa.Column("outcome", sa.String(32), nullable=False),
    sa.Column("recorded_at", sa.DateTime(timezone=True), server_default=sa.func.now()),
)

usage_daily = sa.Table(  # migration 0011: the ledger summed per day
    "usage_daily",
    metadata,
    sa.Column("tenant_id", sa.String(36), primary_key=True),
    sa.Column("day", sa.Date, primary_key=True),
    sa.Column("kind", sa.String(16), primary_key=True),
    sa.Column("provider", sa.String(32), primary_key=True),
    sa.Column("model", sa.String(100), primary_key=True),
    sa.Column("agent_id", sa.String(64), primary_key=True),
    sa.Column("end_user_id", sa.String(128), primary_key=True),
    sa.Column("events", sa.BigInteger, nullable=False),
    sa.Column("calls", sa.BigInteger, nullable=False),
    sa.Column("prompt_tokens", sa.BigInteger, nullable=False),
    sa.Column("completion_tokens", sa.BigInteger, nullable=False),
    sa.Column("latency_ms", sa.Float, nullable=False),
)

webhook_endpoints = sa.Table(  # migration 0013
    "webhook_endpoints",
    metadata,
    sa.Column("id", sa.String(36), primary_key=True),
    sa.Column("tenant_id", sa.String(36), nullable=False),
    sa.Column("url", sa.Text, nullable=False),
    sa.Column("description", sa.Text, nullable=False),
    sa.Column("event_types", JSONB, nullable=False),
    sa.Column("secret_sealed", sa.Text, nullable=False),
    sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.func.now()),
    sa.Column("disabled_at", sa.DateTime(timezone=True)),
)

webhook_deliveries = sa.Table(  # migration 0013
    "webhook_deliveries",
    metadata,
    sa.Column("id", sa.String(36), primary_key=True),
    sa.Column("tenant_id", sa.String(36), nullable=False),
    sa.Column("endpoint_id", sa.String(36), nullable=False),
    sa.Column("event_type", sa.String(64), nullable=False),
    sa.Column("event_id", sa.String(120), nullable=False),
    sa.Column("payload", JSONB, nullable=False),
    sa.Column("status", sa.String(16), nullable=False, server_default="pending"),
    sa.Column("attempts", sa.Integer, nullable=False, server_default="0"),
    sa.Column("last_status", sa.Integer),
    sa.Column("last_error", sa.Text),
    sa.Column("next_attempt_at", sa.DateTime(timezone=True)),
    sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.func.now()),
    sa.Column("delivered_at", sa.DateTime(timezone=True)),
)

webhook_attempts = sa.Table(  # migration 0013
    "webhook_attempts",
    metadata,
    sa.Column("id", sa.BigInteger, primary_key=True),
    sa.Column("tenant_id", sa.String(36), nullable=False),
    sa.Column("delivery_id", sa.String(36), nullable=False),
    sa.Column("attempted_at", sa.DateTime(timezone=True), server_default=sa.func.now()),
    sa.Column("status_code", sa.Integer),
    sa.Column("error", sa.Text),
    sa.Column("duration_ms", sa.Float, nullable=False),
)

mcp_servers = sa.Table(  # migration 0014
    "mcp_servers",
    metadata,
    sa.Column("id", sa.String(36), primary_key=True),
    sa.Column("tenant_id", sa.String(36), nullable=False),
    sa.Column("name", sa.String(40), nullable=False),
    sa.Column("url", sa.Text, nullable=False),
    sa.Column("transport", sa.String(16), nullable=False),
    sa.Column("header_names", JSONB, nullable=False, server_default=sa.text("'[]'::jsonb")),
    sa.Column("headers_sealed", sa.Text),
    sa.Column("tools", JSONB, nullable=False, server_default=sa.text("'[]'::jsonb")),
    sa.Column("tools_listed_at", sa.DateTime(timezone=True)),
    sa.Column("last_error", sa.Text),
    sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.func.now()),
    sa.Column("disabled_at", sa.DateTime(timezone=True)),
)
