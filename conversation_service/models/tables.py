"""The conversation service's tables (migration 0003); every query filters by tenant_id."""

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import JSONB

metadata = sa.MetaData()

conversations = sa.Table(
    "conversations",
    metadata,
    sa.Column("tenant_id", sa.String(36), primary_key=True),
    sa.Column("id", sa.String(64), primary_key=True),
    sa.Column("agent_id", sa.String(36)),
    sa.Column("session_id", sa.String(64)),
    sa.Column("end_user_id", sa.String(128)),  # migration 0010 (was user_id)
    sa.Column("title", sa.Text),
    sa.Column("message_count", sa.Integer, nullable=False),
    sa.Column("total_tokens", sa.Integer, nullable=False),
    sa.Column("prompt_tokens", sa.Integer, nullable=False),
    sa.Column("completion_tokens", sa.Integer, nullable=False),
    sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.func.now()),
    sa.Column("updated_at", sa.DateTime(timezone=True), server_default=sa.func.now()),
    sa.Column("closed_at", sa.DateTime(timezone=True)),
    sa.Column("summary", sa.Text),  # migration 0015
    sa.Column("summary_through", sa.DateTime(timezone=True)),
)

messages = sa.Table(
    "messages",
    metadata,
    sa.Column("id", sa.BigInteger, primary_key=True),
    sa.Column("tenant_id", sa.String(36), nullable=False),
    sa.Column("conversation_id", sa.String(64), nullable=False),
    sa.Column("message_id", sa.String(64), nullable=False),
    sa.Column("role", sa.String(16), nullable=False),
    sa.Column("content", sa.Text, nullable=False),
    sa.Column("tokens", sa.Integer, nullable=False),
    sa.Column("usage", JSONB),
    sa.Column("sources", JSONB, nullable=False),
    sa.Column("tool_calls", JSONB, nullable=False),
    sa.Column("incomplete", sa.Boolean, nullable=False, server_default=sa.false()),  # migration 0010
    sa.Column("context", JSONB),  # migration 0015 (the `embedding` column is written and read in SQL text)
    sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.func.now()),
)
