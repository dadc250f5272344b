from typing import Literal

from pydantic import Field

from common.settings import CommonSettings
from ingestion_service.services.extract import ExtractionLimits
from ingestion_service.services.sandbox import SandboxLimits


class IngestionSettings(CommonSettings):
    service_name: str = "ingestion_service"
    port: int = 8002
    cpu_priority: Literal["normal", "background"] = "background"  # extraction and chunking yield to chat

    default_chunk_size: int = Field(200, ge=20, le=2_000)  # tokens (cl100k)
    default_chunk_overlap: int = Field(30, ge=0, le=500)
    embed_batch_size: int = Field(32, ge=1, le=256)  # chunks per embedding.generate
    embed_parallel_batches: int = Field(4, ge=1, le=64)  # batches in flight per document
    embed_timeout_s: float = Field(120.0, gt=0)  # per batch callback, counted from when the batch is sent
    # batches awaiting the embedding service per replica, all documents together: more wait here, before
    # their timeout starts, instead of queueing behind each other in the embedding service's stream
    embed_inflight_batches: int = Field(8, ge=1, le=256)
    allow_private_urls: bool = False  # refuse loopback/private/link-local addresses when fetching URLs
    url_fetch_timeout_s: float = Field(20.0, gt=0)
    task_events_ttl_s: int = Field(3_600, ge=60)

    # Reading untrusted files (README, "Limits"): each document in its own capped child process.
    extract_parallel: int = Field(2, ge=1, le=64)  # documents read at once per replica
    extract_time_budget_s: float = Field(120.0, gt=0)
    extract_memory_mb: int = Field(2_048, ge=256)
    max_document_chars: int = Field(5_000_000, ge=1_000)
    max_pdf_pages: int = Field(2_000, ge=1)
    max_uncompressed_mb: int = Field(256, ge=1)
    max_zip_entries: int = Field(10_000, ge=10)
    max_json_depth: int = Field(200, ge=2, le=10_000)

    # Nothing stays in progress forever: the sweeper re-queues documents queued this long without being picked
    # up (e.g. queued while Redis was down) and fails those processing this long without progress.
    sweep_interval_s: float = Field(15.0, gt=0)
    requeue_after_s: float = Field(30.0, gt=0)  # queued this long with no live work in Redis: queue it again
    requeue_marked_after_s: float = Field(900.0, gt=0)  # ... even with live work (a backlog this long)
    stalled_after_s: float = Field(900.0, gt=0)

    @property
    def sandbox_limits(self) -> SandboxLimits:
        extraction = ExtractionLimits(
            max_chars=self.max_document_chars,
            max_pages=self.max_pdf_pages,
            max_uncompressed_bytes=self.max_uncompressed_mb * 1024 * 1024,
            max_zip_entries=self.max_zip_entries,
            max_json_depth=self.max_json_depth,
        )
        return SandboxLimits(extraction, self.extract_time_budget_s, self.extract_memory_mb)
