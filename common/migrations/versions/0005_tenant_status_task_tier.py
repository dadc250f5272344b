"""Tenants can be disabled (their keys and tokens are refused, 401); an ingestion task records the tier whose
stream its work is queued on, so the sweeper can queue it again.

Revision ID: 0005
"""

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("tenants", sa.Column("disabled_at", sa.DateTime(timezone=True)))
    op.add_column("ingestion_tasks", sa.Column("tier", sa.String(16), nullable=False, server_default="free"))
    op.create_index("ix_documents_status", "documents", ["status", "updated_at"])


def downgrade() -> None:
    op.drop_index("ix_documents_status", "documents")
    op.drop_column("ingestion_tasks", "tier")
    op.drop_column("tenants", "disabled_at")
