from pydantic import Field

from common.settings import CommonSettings


class IngestionSettings(CommonSettings):
    service_name: str = "ingestion_service"
    port: int = 8002

    default_chunk_size: int = Field(200, ge=20, le=2_000)  # tokens (cl100k)
    default_chunk_overlap: int = Field(30, ge=0, le=500)
    embed_batch_size: int = Field(32, ge=1, le=256)  # chunks per embedding.generate
    embed_parallel_batches: int = Field(4, ge=1, le=64)  # batches in flight per document
    embed_timeout_s: float = Field(120.0, gt=0)  # per batch callback
    allow_private_urls: bool = False  # refuse loopback/private/link-local addresses when fetching URLs
    url_fetch_timeout_s: float = Field(20.0, gt=0)
    task_events_ttl_s: int = Field(3_600, ge=60)
