"""Embedding models the platform knows, with their dimensions (a collection records both)."""

EMBEDDING_DIMENSIONS: dict[str, int] = {"all-MiniLM-L6-v2": 384, "text-embedding-3-small": 1536}
DEFAULT_EMBEDDING_MODEL = "all-MiniLM-L6-v2"
EMBEDDING_PROVIDERS: dict[str, str] = {"all-MiniLM-L6-v2": "local", "text-embedding-3-small": "openai"}
