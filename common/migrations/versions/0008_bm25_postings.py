"""Lexical search ranked by BM25 inside PostgreSQL: an inverted index of chunk terms.

`chunk_terms` holds one row per (chunk, term) with the term's frequency, the chunk's length and its document, keyed by
(tenant, collection, term): a query reads only the postings of its own terms in its own scope, and gets
document frequencies (IDF) from the same rows (query_service.services.lexical). Terms come from
`common.lexical` (the collection's text search configuration for prose, identifiers kept whole and split).
Each collection names its text search configuration (`english` by default). The generated `tsv`/`tsv_parts`
columns and their GIN indexes, which only `ts_rank_cd` used, are dropped; existing chunks get their postings
here (identifiers split into their parts in SQL;
re-ingesting a document also adds the whole-identifier terms).

Revision ID: 0008
"""

from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None

APP_ROLE = "nooble4_app"
SPLIT = r"regexp_replace(regexp_replace(content, '([a-z0-9])([A-Z])', '\1 \2', 'g'), '[._:/\-]+', ' ', 'g')"


def upgrade() -> None:
    op.execute("ALTER TABLE collections ADD COLUMN text_search_config text NOT NULL DEFAULT 'english'")
    op.execute("ALTER TABLE chunks ADD COLUMN term_count integer NOT NULL DEFAULT 0")
    # the scope's size and average length (BM25's N and avgdl) from the index alone
    op.execute("CREATE INDEX ix_chunks_scope_length ON chunks (tenant_id, collection_id) INCLUDE (term_count)")
    op.execute("DROP INDEX ix_chunks_scope")
    op.execute(
        """
        CREATE TABLE chunk_terms (
            tenant_id varchar(36) NOT NULL,
            collection_id varchar(36) NOT NULL,
            term text NOT NULL,
            document_id varchar(36) NOT NULL,
            chunk_id bigint NOT NULL REFERENCES chunks (id) ON DELETE CASCADE,
            tf integer NOT NULL,
            chunk_length integer NOT NULL,
            PRIMARY KEY (tenant_id, collection_id, term, chunk_id)
        )
        """
    )
    op.execute("CREATE INDEX ix_chunk_terms_chunk ON chunk_terms (chunk_id)")  # cascade deletes
    op.execute(f"GRANT SELECT, INSERT, UPDATE, DELETE ON chunk_terms TO {APP_ROLE}")
    op.execute("ALTER TABLE chunk_terms ENABLE ROW LEVEL SECURITY")
    op.execute("ALTER TABLE chunk_terms FORCE ROW LEVEL SECURITY")
    op.execute(
        "CREATE POLICY tenant_isolation ON chunk_terms "
        "USING (tenant_id = current_setting('nooble4.tenant_id', true)) "
        "WITH CHECK (tenant_id = current_setting('nooble4.tenant_id', true))"
    )
    op.execute("CREATE POLICY owner_access ON chunk_terms TO CURRENT_USER USING (true) WITH CHECK (true)")
    # postings of the chunks that exist already
    op.execute(
        f"""
        WITH terms AS (
            SELECT c.id, c.tenant_id, c.collection_id, c.document_id, t.lexeme,
                   coalesce(array_length(t.positions, 1), 1) AS tf
            FROM chunks c, unnest(to_tsvector('english', {SPLIT})) t
        ), lengths AS (
            UPDATE chunks SET term_count = l.length
            FROM (SELECT id, sum(tf) AS length FROM terms GROUP BY id) l WHERE chunks.id = l.id
            RETURNING chunks.id, chunks.term_count
        )
        INSERT INTO chunk_terms (tenant_id, collection_id, term, document_id, chunk_id, tf, chunk_length)
        SELECT t.tenant_id, t.collection_id, t.lexeme, t.document_id, t.id, t.tf, l.term_count
        FROM terms t JOIN lengths l ON l.id = t.id
        """
    )
    op.execute("DROP INDEX IF EXISTS ix_chunks_tsv_parts")
    op.execute("ALTER TABLE chunks DROP COLUMN tsv_parts")
    op.execute("DROP INDEX IF EXISTS ix_chunks_tsv")
    op.execute("ALTER TABLE chunks DROP COLUMN tsv")


def downgrade() -> None:
    op.execute(
        "ALTER TABLE chunks ADD COLUMN tsv tsvector GENERATED ALWAYS AS (to_tsvector('english', content)) STORED"
    )
    op.execute("CREATE INDEX ix_chunks_tsv ON chunks USING gin (tsv)")
    op.execute(
        f"ALTER TABLE chunks ADD COLUMN tsv_parts tsvector GENERATED ALWAYS AS (to_tsvector('simple', {SPLIT})) STORED"
    )
    op.execute("CREATE INDEX ix_chunks_tsv_parts ON chunks USING gin (tsv_parts)")
    op.execute("DROP TABLE chunk_terms")
    op.execute("CREATE INDEX ix_chunks_scope ON chunks (tenant_id, collection_id)")
    op.execute("ALTER TABLE chunks DROP COLUMN term_count")
    op.execute("ALTER TABLE collections DROP COLUMN text_search_config")
