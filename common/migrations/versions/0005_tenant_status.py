"""Tenants can be disabled: a disabled tenant's keys and tokens are refused (401).

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


def downgrade() -> None:
    op.drop_column("tenants", "disabled_at")
