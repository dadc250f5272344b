from pydantic import Field

from common.llm.settings import LLMSettings
from common.settings import CommonSettings
from query_service.models.search import FusionMethod


class QuerySettings(CommonSettings, LLMSettings):
    service_name: str = "query_service"
    port: int = 8000

    rrf_k: int = Field(60, ge=1)  # reciprocal rank fusion constant
    hybrid_candidates: int = Field(40, ge=1, le=1_000)  # taken from each of vector and text before fusion
    # hybrid: how vector and text rankings merge, and the text ranking's weight (vector's is 1). Keyword
    # queries (at most `keyword_query_max_words` words: an API name, a product code) lean on the lexical
    # ranking, questions on the dense one. Requests may override both (`fusion`, `text_weight`). Measured on a
    # lexical-favouring and a dense-favouring set (docs/benchmarks.md, "Retrieval").
    hybrid_fusion: FusionMethod = FusionMethod.SCORE
    hybrid_text_weight: float = Field(0.8, ge=0, le=10)
    hybrid_keyword_text_weight: float = Field(3.0, ge=0, le=10)
    keyword_query_max_words: int = Field(2, ge=0, le=20)
    context_max_tokens: int = Field(300, ge=0, le=4_000)  # a hit's section (`context`) is cut to this many tokens
    answer_model_provider: str = "local"  # the model that writes grounded answers
    answer_model_name: str = "smollm2-135m-instruct"
    answer_max_tokens: int = Field(400, ge=16, le=8_192)
    answer_context_max_tokens: int = Field(1_500, ge=100, le=100_000)  # the sources' share of a `model` answer prompt
