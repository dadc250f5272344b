from datetime import datetime
from enum import StrEnum

from pydantic import BaseModel, ConfigDict, Field, HttpUrl, model_validator

from common.embedding_models import DEFAULT_EMBEDDING_MODEL
from common.validation import PatchModel


class DocumentStatus(StrEnum):
    QUEUED = "queued"
    PROCESSING = "processing"
    READY = "ready"
    FAILED = "failed"


class CollectionCreate(BaseModel):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {"name": "handbook", "description": "Company handbook", "chunk_size": 200, "chunk_overlap": 30}
            ]
        },
    )

    name: str = Field(min_length=1, max_length=120)
    description: str = Field("", max_length=2_000)
    embedding_model: str = DEFAULT_EMBEDDING_MODEL
    chunk_size: int | None = Field(None, ge=20, le=2_000)  # tokens; default from settings
    chunk_overlap: int | None = Field(None, ge=0, le=500)
    text_search_config: str = Field(
        "english",
        min_length=1,
        max_length=63,
        pattern=r"^[a-z_]+$",
        description="language of lexical search (a PostgreSQL text search configuration: english, spanish, "
        "german, french, simple, ...); stems words and drops that language's stop words",
    )

    @model_validator(mode="after")
    def _overlap_below_size(self) -> "CollectionCreate":
        if self.chunk_size and self.chunk_overlap and self.chunk_overlap >= self.chunk_size:
            raise ValueError("chunk_overlap must be smaller than chunk_size")
        return self


class CollectionUpdate(PatchModel):
    model_config = ConfigDict(
        extra="forbid", json_schema_extra={"examples": [{"description": "Handbook, 2026 edition"}]}
    )

    name: str | None = Field(None, min_length=1, max_length=120)
    description: str | None = Field(None, max_length=2_000)


class CollectionOut(BaseModel):
    id: str
    name: str
    description: str
    embedding_model: str
    dimensions: int
    chunk_size: int
    chunk_overlap: int
    text_search_config: str
    document_count: int = 0
    created_at: datetime
    updated_at: datetime


class TextDocumentCreate(BaseModel):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "collection_id": "9d1e2f3a-4b5c-6d7e-8f90-a1b2c3d4e5f6",
                    "title": "Opening hours",
                    "text": "We are open from 9 to 17, Monday to Friday.",
                }
            ]
        },
    )

    collection_id: str
    title: str = Field(min_length=1, max_length=500)
    text: str = Field(min_length=1)
    content_type: str = Field("txt", pattern=r"^(txt|md|html|csv|json)$")


class UrlDocumentCreate(BaseModel):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {"collection_id": "9d1e2f3a-4b5c-6d7e-8f90-a1b2c3d4e5f6", "url": "https://example.com/faq.html"}
            ]
        },
    )

    collection_id: str
    url: HttpUrl
    title: str | None = Field(None, max_length=500)


class DocumentOut(BaseModel):
    id: str
    collection_id: str
    title: str
    source: str
    content_type: str
    content_hash: str
    size_bytes: int
    status: str
    error: str | None
    error_retryable: bool = Field(False, description="a failure another try may cure (not an empty or corrupt file)")
    chunk_count: int
    created_at: datetime
    updated_at: datetime


class ChunkOut(BaseModel):
    """One piece of a document as it is searched: its text, where it comes from, its size."""

    position: int
    content: str
    page: int | None
    heading: str | None
    token_count: int
    embedded: bool


class DocumentAccepted(BaseModel):
    document: DocumentOut
    task_id: str | None  # None when the same content was already in the collection
    duplicate: bool = False


class TaskOut(BaseModel):
    id: str
    document_id: str
    status: str  # queued | processing | done | failed
    stage: str  # queued | extracting | chunking | embedding | indexing | done | failed
    percent: int
    chunks_total: int
    chunks_embedded: int
    error: str | None
    created_at: datetime
    updated_at: datetime
