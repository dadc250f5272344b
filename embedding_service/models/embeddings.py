from typing import Literal

from pydantic import BaseModel, ConfigDict, Field


class EmbedRequest(BaseModel):
    """`embedding.generate`: vectors for `texts`, in order."""

    model_config = ConfigDict(extra="forbid", protected_namespaces=())

    texts: list[str] = Field(min_length=1)
    model: str | None = None
    # `bulk` (a document's chunks) waits behind every `interactive` text (a question being answered), so a chat
    # turn's retrieval is not queued behind an ingestion
    priority: Literal["interactive", "bulk"] = "interactive"


class EmbeddingUsage(BaseModel):
    prompt_tokens: int
    total_tokens: int


class EmbedResult(BaseModel):
    model_config = ConfigDict(protected_namespaces=())

    embeddings: list[list[float]]
    model: str
    dimensions: int
    usage: EmbeddingUsage
    cached: int = 0  # how many came from the cache


class OpenAIEmbeddingsRequest(BaseModel):
    """`POST /api/v1/embeddings`, the OpenAI request shape."""

    model_config = ConfigDict(
        extra="ignore",
        protected_namespaces=(),
        json_schema_extra={"examples": [{"input": ["The cat sits on the mat."], "model": "all-MiniLM-L6-v2"}]},
    )

    input: str | list[str]
    model: str | None = None
    encoding_format: Literal["float"] = "float"


class OpenAIEmbedding(BaseModel):
    object: Literal["embedding"] = "embedding"
    index: int
    embedding: list[float]


class OpenAIEmbeddingsResponse(BaseModel):
    object: Literal["list"] = "list"
    data: list[OpenAIEmbedding]
    model: str
    usage: EmbeddingUsage
