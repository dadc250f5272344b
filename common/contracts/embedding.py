"""`embedding.generate`: vectors for texts, owned by the embedding service."""

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from common.contracts.contract import call


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


GENERATE = call("embedding.generate", EmbedRequest, EmbedResult, timeout_s=30)
