"""How an agent uses its collections (`knowledge`: mode, answer style, top_k, min_relevance, abstain message).
Existing agents get `{}`, read as the defaults: retrieval before every turn (`auto`).

Revision ID: 0009
"""

from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute("ALTER TABLE agents ADD COLUMN knowledge jsonb NOT NULL DEFAULT '{}'::jsonb")


def downgrade() -> None:
    op.execute("ALTER TABLE agents DROP COLUMN knowledge")
