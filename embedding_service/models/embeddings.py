"""The OpenAI-shaped REST bodies of `POST /api/v1/embeddings` (the action's models are `common.contracts.embedding`)."""

from typing import Literal

from pydantic import BaseModel, ConfigDict

from common.contracts.embedding import EmbeddingUsage


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
