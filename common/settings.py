"""Settings from the environment (`NOOBLE4_` prefix) and `.env`; one subclass per service."""

from __future__ import annotations

import os
from typing import Literal, Self

from pydantic import Field, SecretStr, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

# Never accepted as a JWT secret, in any environment (the last one was this project's old public default).
PLACEHOLDER_SECRETS = frozenset(
    {"changeme", "change-me", "secret", "development-only-secret-change-me-in-production", "your-secret-here"}
)
MIN_SECRET_LENGTH = 32


def run_in_background() -> None:
    """This thread, and the threads and processes it starts from now on, run at SCHED_IDLE (at nice 19 where the
    system has no SCHED_IDLE)."""
    if hasattr(os, "SCHED_IDLE"):
        os.sched_setscheduler(0, os.SCHED_IDLE, os.sched_param(0))
    else:  # pragma: no cover - not Linux
        os.nice(19)


def available_cores() -> int:
    """The cores this process may run on (its CPU affinity, which containers and taskset narrow)."""
    return len(os.sched_getaffinity(0)) or 1


class CommonSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="NOOBLE4_", env_file=".env", extra="ignore")

    environment: str = Field("development", pattern=r"^[a-z0-9_-]+$")
    service_name: str = "nooble4"
    instance_id: str | None = None  # stable replica id; defaults to hostname-pid
    host: str = "127.0.0.1"
    cors_origins: list[str] = []  # browser origins allowed to call this API (the console's); none by default
    port: int = 8000
    log_level: str = "INFO"
    log_json: bool = True
    # `background`: the process runs at SCHED_IDLE (Linux), using only CPU time nothing else wants, so on a small
    # host the chat model keeps the cores while documents ingest. The ingestion service defaults to it.
    cpu_priority: Literal["normal", "background"] = "normal"

    redis_url: str = "redis://127.0.0.1:6379/0"
    redis_cluster: bool = False  # the URL names one node of a Redis Cluster; the others are discovered
    redis_max_connections: int = 512
    redis_socket_timeout_s: float = 10.0
    database_url: str = "postgresql+asyncpg://postgres@127.0.0.1:5432/postgres"
    database_schema: str = Field("public", pattern=r"^[a-z_][a-z0-9_]*$")
    database_pool_size: int = 5

    # JWT auth is off unless configured: an HS256 secret (32+ characters) and/or a JWKS URL for RS256/ES256
    # tokens from an identity provider. Tokens name a tenant; its tier and status always come from the database.
    jwt_secret: SecretStr | None = None
    jwt_jwks_url: str | None = None
    jwt_audience: str | None = None
    jwt_issuer: str | None = None
    auth_cache_ttl_s: int = 5
    auth_resolve_timeout_s: float = 5.0
    # The key that encrypts secrets the platform must read back (webhook signing secrets): 32 random bytes,
    # base64 (openssl rand -base64 32). `nooble4 up` makes one in its home when none is set.
    secrets_key: SecretStr | None = None
    # Networks outside the public internet that requests to tenant-chosen URLs may reach (common.outbound)
    outbound_allowed_networks: list[str] = Field(default_factory=list, max_length=100)

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
    max_deliveries: int = 5  # failed handler attempts before a message is dead-lettered
    max_deliveries_without_outcome: int = 10  # deliveries whose consumer died mid-handler, before it is poison
    max_message_bytes: int = 1_048_576
    shutdown_grace_s: float = 20.0

    @field_validator("jwt_secret", "jwt_jwks_url", "jwt_audience", "jwt_issuer", mode="before")
    @classmethod
    def _empty_is_unset(cls, value: object) -> object:
        return None if value == "" else value  # `NOOBLE4_JWT_SECRET=` in an .env file: JWT auth stays off

    @model_validator(mode="after")
    def _refuse_placeholder_secrets(self) -> Self:
        """In every environment: a configured JWT secret must be a real one."""
        if self.jwt_secret is not None:
            secret = self.jwt_secret.get_secret_value()
            if secret.lower() in PLACEHOLDER_SECRETS or len(secret) < MIN_SECRET_LENGTH:
                raise ValueError(
                    f"NOOBLE4_JWT_SECRET must be a random secret of {MIN_SECRET_LENGTH}+ characters "
                    "(e.g. `openssl rand -hex 32`), or unset to turn JWT auth off"
                )
        return self

    @model_validator(mode="after")
    def _poison_after_failures(self) -> Self:
        if self.max_deliveries_without_outcome < self.max_deliveries:
            raise ValueError("max_deliveries_without_outcome must be at least max_deliveries")
        return self

    @model_validator(mode="after")
    def _leases_renewed_before_reclaim(self) -> Self:
        if self.reclaim_interval_s * 1000 * 2 > self.claim_idle_ms:
            raise ValueError("claim_idle_ms must be at least twice reclaim_interval_s, or running work is stolen")
        return self
