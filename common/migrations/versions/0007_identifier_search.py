"""Identifiers findable in full-text search: a second text index of each chunk, split at dots, underscores,
slashes, colons, dashes and camelCase humps (`simple` configuration, no stemming), so `loop.call_at`,
`call_at` and `getUserName` find `asyncio.loop.call_at` and `getUserName`. The English index and its ranking
stay as they were; the query side consults the parts index only for identifier-like words of the query
(query_service.services.search).

Revision ID: 0007
"""

from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None

SPLIT = r"regexp_replace(regexp_replace(content, '([a-z0-9])([A-Z])', '\1 \2', 'g'), '[._:/\-]+', ' ', 'g')"


def upgrade() -> None:
    op.execute(
        f"ALTER TABLE chunks ADD COLUMN tsv_parts tsvector GENERATED ALWAYS AS (to_tsvector('simple', {SPLIT})) STORED"
    )
    op.execute("CREATE INDEX ix_chunks_tsv_parts ON chunks USING gin (tsv_parts)")


def downgrade() -> None:
    op.execute("DROP INDEX IF EXISTS ix_chunks_tsv_parts")
    op.execute("ALTER TABLE chunks DROP COLUMN tsv_parts")
