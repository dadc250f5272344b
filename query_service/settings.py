from pydantic import Field

from common.contracts.query import FusionMethod
from common.llm.settings import LLMSettings
from common.settings import CommonSettings


class QuerySettings(CommonSettings, LLMSettings):
    service_name: str = "query_service"
    port: int = 8000

    rrf_k: int = Field(60, ge=1)  # reciprocal rank fusion constant
    hybrid_candidates: int = Field(40, ge=1, le=1_000)  # taken from each of vector and text before fusion
    # hybrid: how vector and text rankings merge, and the text ranking's weight (vector's is 1) when its best hit
    # holds all of the query's words; less as it holds less (query_service.services.search.text_weight). Requests
    # may override both (`fusion`, `text_weight`). Measured on four sets (docs/benchmarks.md, "Retrieval").
    hybrid_fusion: FusionMethod = FusionMethod.SCORE
    hybrid_text_weight: float = Field(3.0, ge=0, le=10)
    evidence_pool_factor: int = Field(2, ge=1, le=10)  # `with_evidence` re-ranks this many times top_k hits
    context_max_tokens: int = Field(300, ge=0, le=4_000)  # a hit's section (`context`) is cut to this many tokens
    answer_model_provider: str = "local"  # the model that writes grounded answers
    answer_model_name: str = "smollm2-135m-instruct"
    answer_max_tokens: int = Field(400, ge=16, le=8_192)
    answer_context_max_tokens: int = Field(1_500, ge=100, le=100_000)  # the sources' share of a `model` answer prompt
