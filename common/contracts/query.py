"""`query.search` and `query.generate`: retrieval and grounded answers, owned by the query service. The same
models are the bodies of `POST /api/v1/query/search` and `/generate`."""

from enum import StrEnum

from pydantic import BaseModel, ConfigDict, Field

from common.contracts.contract import call
from common.models.knowledge import DEFAULT_MIN_RELEVANCE, AnswerStyle, SearchHit


class SearchMode(StrEnum):
    VECTOR = "vector"
    TEXT = "text"
    HYBRID = "hybrid"


class FusionMethod(StrEnum):
    SCORE = "score"  # each ranking's scores scaled to [0, 1] over its candidates, weighted sum
    RRF = "rrf"  # weighted reciprocal rank fusion: Σ weight / (rrf_k + rank)


class SearchRequest(BaseModel):
    """`query.search` and `POST /api/v1/query/search`."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "query": "When are you open?",
                    "collection_ids": ["9d1e2f3a-4b5c-6d7e-8f90-a1b2c3d4e5f6"],
                    "top_k": 5,
                    "mode": "hybrid",
                }
            ]
        },
    )

    query: str = Field(min_length=1, max_length=4_000)
    collection_ids: list[str] = Field(min_length=1, max_length=50)
    document_ids: list[str] | None = Field(None, max_length=500)
    top_k: int = Field(5, ge=1, le=100)
    mode: SearchMode = SearchMode.HYBRID
    text_weight: float | None = Field(
        None, ge=0, le=10, description="hybrid: the text ranking's weight (vector: 1); default from the service"
    )
    fusion: FusionMethod | None = Field(None, description="hybrid: how the two rankings merge; default: the service's")
    with_context: bool = Field(
        False, description="also return each hit's section as `context`: the chunks around it under the same heading"
    )
    with_evidence: bool = Field(
        False,
        description="also return each hit's sentences that best answer the query (`evidence`) and their best score "
        "(`relevance`), the hits re-ranked by it from a wider pool; implies `with_context`",
    )


class SearchResult(BaseModel):
    query: str
    mode: SearchMode
    results: list[SearchHit]


class GenerateRequest(BaseModel):
    """`query.generate` and `POST /api/v1/query/generate`."""

    model_config = ConfigDict(
        extra="forbid",
        protected_namespaces=(),
        json_schema_extra={
            "examples": [{"query": "When are you open?", "collection_ids": ["9d1e2f3a-4b5c-6d7e-8f90-a1b2c3d4e5f6"]}]
        },
    )

    query: str = Field(min_length=1, max_length=4_000)
    collection_ids: list[str] = Field(min_length=1, max_length=50)
    document_ids: list[str] | None = Field(None, max_length=500)
    top_k: int = Field(4, ge=1, le=20)
    model: str | None = None  # provider:name, e.g. "openai:gpt-4o-mini"; default from settings
    answer_style: AnswerStyle = AnswerStyle.AUTO
    min_relevance: float = Field(DEFAULT_MIN_RELEVANCE, ge=0, le=1)


class Citation(BaseModel):
    number: int  # [n] in the answer
    chunk_id: int
    document_id: str
    document_title: str
    source: str
    page: int | None
    position: int


class GenerateResult(BaseModel):
    query: str
    answer: str
    citations: list[Citation]
    sources: list[SearchHit]
    found: bool  # False: nothing relevant, the answer says so


SEARCH = call("query.search", SearchRequest, SearchResult, timeout_s=20)
GENERATE = call("query.generate", GenerateRequest, GenerateResult, timeout_s=60)
