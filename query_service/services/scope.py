"""SQL shared by the search modes: the columns of a hit and the join that keeps only chunks of documents that
finished ingesting (`status = 'ready'`), optionally of the requested documents only."""

HIT_COLUMNS = """
    c.id AS chunk_id, c.document_id, c.collection_id, d.title AS document_title, d.source, c.content,
    c.position, c.page, c.heading
"""
READY_DOCUMENTS = """
    JOIN documents d ON d.tenant_id = c.tenant_id AND d.id = c.document_id AND d.status = 'ready'
      AND (CAST(:document_ids AS text[]) IS NULL OR c.document_id = ANY(CAST(:document_ids AS text[])))
"""
