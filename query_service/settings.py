from pydantic import Field

from common.llm.settings import LLMSettings
from common.settings import CommonSettings


class QuerySettings(CommonSettings, LLMSettings):
    service_name: str = "query_service"
    port: int = 8000

    rrf_k: int = Field(60, ge=1)  # reciprocal rank fusion constant
    hybrid_candidates: int = Field(40, ge=1, le=1_000)  # taken from each of vector and text before fusion
    # the text ranking's weight in the fusion (vector's is 1); requests may override it (`text_weight`).
    # 1 until a better default is measured: on lumora 0.25/0.5 scored below 1 (docs/benchmarks.md)
    hybrid_text_weight: float = Field(1.0, ge=0, le=10)
    min_vector_similarity: float = Field(0.25, ge=-1, le=1)  # below it (and no text match) a chunk is not relevant
    answer_model_provider: str = "local"  # the model that writes grounded answers
    answer_model_name: str = "smollm2-135m-instruct"
    answer_max_tokens: int = Field(400, ge=16, le=8_192)
