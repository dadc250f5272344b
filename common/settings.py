"""Settings from the environment (`NOOBLE4_` prefix) and `.env`; one subclass per service."""

from __future__ import annotations

from typing import Self

from pydantic import Field, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

DEV_JWT_SECRET = "development-only-secret-change-me-in-production"
PLACEHOLDER_SECRETS = frozenset({"", "changeme", "change-me", "secret", DEV_JWT_SECRET})


class CommonSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="NOOBLE4_", env_file=".env", extra="ignore")

    environment: str = Field("development", pattern=r"^[a-z0-9_-]+$")
    service_name: str = "nooble4"
    instance_id: str | None = None  # stable replica id; defaults to hostname-pid
    host: str = "127.0.0.1"
    port: int = 8000
    log_level: str = "INFO"
    log_json: bool = True

    redis_url: str = "redis://127.0.0.1:6379/0"
    redis_max_connections: int = 512
    redis_socket_timeout_s: float = 10.0
    database_url: str = "postgresql+asyncpg://postgres@127.0.0.1:5432/postgres"
    database_schema: str = Field("public", pattern=r"^[a-z_][a-z0-9_]*$")
    database_pool_size: int = 5

    jwt_secret: str = DEV_JWT_SECRET
    auth_cache_ttl_s: int = 5
    auth_resolve_timeout_s: float = 5.0

    # Messaging
    stream_maxlen: int = 100_000
    reply_ttl_s: int = 60
    pseudo_sync_timeout_s: float = 30.0
    worker_consumers: int = 1
    worker_concurrency: int = 64
    worker_block_ms: int = 1_000
    worker_read_batch: int = 16
    claim_idle_ms: int = 30_000
    reclaim_interval_s: float = 5.0
    max_deliveries: int = 5
    max_message_bytes: int = 1_048_576
    shutdown_grace_s: float = 20.0

    @model_validator(mode="after")
    def _refuse_placeholder_secrets(self) -> Self:
        if not self.is_development and (self.jwt_secret in PLACEHOLDER_SECRETS or len(self.jwt_secret) < 32):
            raise ValueError("NOOBLE4_JWT_SECRET must be a real secret of 32+ characters outside development")
        return self

    @property
    def is_development(self) -> bool:
        """`development`, `dev*` and `test*` environments may run with placeholder secrets."""
        return self.environment.startswith(("dev", "test"))

    @model_validator(mode="after")
    def _leases_renewed_before_reclaim(self) -> Self:
        if self.reclaim_interval_s * 1000 * 2 > self.claim_idle_ms:
            raise ValueError("claim_idle_ms must be at least twice reclaim_interval_s, or running work is stolen")
        return self
