"""How an agent uses its documents (`knowledge` in its config) and what retrieval returns (`query.search` hits).

Shared by the management service (which stores the config), the execution service (which retrieves before every
turn) and the query service (which retrieves and answers `query.generate`).
"""

from __future__ import annotations

from enum import StrEnum

from pydantic import BaseModel, ConfigDict, Field

DEFAULT_ABSTAIN_MESSAGE = "My documents do not answer this question, so I won't guess."
# The relevance (`SearchHit.relevance`: the best supporting sentence's score) below which nothing retrieved
# counts as an answer. Calibrated on bench/answers.py's questions (docs/benchmarks.md, "Answers").
DEFAULT_MIN_RELEVANCE = 0.50


class KnowledgeMode(StrEnum):
    AUTO = "auto"  # retrieve before every turn that asks something; the knowledge tool too for `model` answers
    ALWAYS = "always"  # retrieve before every turn, small talk included; no knowledge tool
    TOOL = "tool"  # only the knowledge tool: the model decides (for capable models)
    OFF = "off"  # the agent's collections are not used


class AnswerStyle(StrEnum):
    AUTO = "auto"  # `quote` for the `local` provider, `model` for the others
    QUOTE = "quote"  # the answer leads with the supporting sentences, quoted and cited; the model phrases after
    MODEL = "model"  # the model writes the answer from the numbered sources and cites them as [n]


class KnowledgeConfig(BaseModel):
    """An agent's use of its collections."""

    model_config = ConfigDict(extra="forbid")

    mode: KnowledgeMode = KnowledgeMode.AUTO
    answer_style: AnswerStyle = AnswerStyle.AUTO
    top_k: int = Field(4, ge=1, le=20, description="passages retrieved before each turn")
    min_relevance: float = Field(
        DEFAULT_MIN_RELEVANCE, ge=0, le=1, description="below it, retrieval found nothing that answers: abstain"
    )
    abstain: bool = Field(True, description="say that the documents do not answer instead of letting the model guess")
    abstain_message: str = Field(DEFAULT_ABSTAIN_MESSAGE, min_length=1, max_length=1_000)
    max_context_tokens: int = Field(1_500, ge=100, le=100_000, description="the passages' share of the prompt")


class Evidence(BaseModel):
    """A sentence of a hit's section and how well it answers the query (0..1)."""

    text: str
    score: float


class SearchHit(BaseModel):
    chunk_id: int
    document_id: str
    collection_id: str
    document_title: str
    source: str
    content: str
    position: int
    page: int | None
    heading: str | None
    score: float  # the ranking score of the mode (cosine similarity, BM25, or the fused score)
    vector_score: float | None = None
    text_score: float | None = None
    text_share: float | None = None  # BM25 over the query's best possible BM25 (0..1): how well the words matched
    context: str | None = None  # the hit's section, when asked for (`with_context`) and in grounded answers
    # when asked for (`with_evidence`): the section's sentences that best answer the query, best first, and the
    # best one's score, comparable across queries (what abstention is decided on)
    evidence: list[Evidence] | None = None
    relevance: float | None = None
