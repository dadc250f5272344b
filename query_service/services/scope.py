"""SQL shared by the search modes: the columns of a hit, a chunk's document, and what makes a document
searchable — it finished ingesting (`status = 'ready'`) and, when the request names documents, is one of them."""

HIT_COLUMNS = """
    c.id AS chunk_id, c.document_id, c.collection_id, d.title AS document_title, d.source, c.content,
    c.position, c.page, c.heading
"""
DOCUMENT_OF_CHUNK = "JOIN documents d ON d.tenant_id = c.tenant_id AND d.id = c.document_id"
SEARCHABLE_DOCUMENT = (
    "d.status = 'ready' AND (CAST(:document_ids AS text[]) IS NULL OR d.id = ANY(CAST(:document_ids AS text[])))"
)
READY_DOCUMENTS = f"{DOCUMENT_OF_CHUNK} AND {SEARCHABLE_DOCUMENT}"
