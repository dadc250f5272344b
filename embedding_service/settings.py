from pydantic import Field

from common.settings import CommonSettings, available_cores


class EmbeddingSettings(CommonSettings):
    service_name: str = "embedding_service"
    port: int = 8006
    # a document's chunks (`priority: bulk`) are embedded on a thread at SCHED_IDLE: they yield the cores to chat
    bulk_in_background: bool = True
    local_model_threads: int = Field(default_factory=available_cores, ge=1, le=256)  # model runs at once
    # padded tokens per model run (batch x its longest text): what bounds the memory a run takes and keeps
    # (256, one text at the model's limit: on 2 cores as fast as larger runs, and a fraction of their memory)
    max_batch_tokens: int = Field(256, ge=256, le=65_536)

    default_model: str = "all-MiniLM-L6-v2"
    openai_api_key: str | None = None
    openai_base_url: str | None = None  # any OpenAI-compatible embeddings server
    max_texts_per_call: int = Field(512, ge=1)
    max_chars_per_text: int = Field(32_000, ge=1)  # longer texts are refused, not silently cut
    batch_size: int = Field(32, ge=1, le=1024)  # texts per model call
    batch_wait_ms: float = Field(2.0, ge=0)  # how long a batch waits for company once the model is free
    cache_ttl_s: int = Field(7 * 24 * 3600, ge=0)  # vectors cached by (model, sha256(text)); 0 disables
