from datetime import datetime
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, computed_field

from common.contracts.management import KeyScope
from common.models.tiers import Tier
from common.tier_limits import limits_for


class TenantOut(BaseModel):
    id: str
    name: str
    tier: Tier
    created_at: datetime
    allowed_origins: list[str] = Field(
        default_factory=list, description="web origins allowed to embed the chat widget and call the chat API"
    )

    @computed_field  # type: ignore[prop-decorator]
    @property
    def limits(self) -> dict[str, Any]:
        """The tier's limits (the one tier table, `common.tier_limits`), for clients such as the console."""
        limits = limits_for(self.tier)
        return {
            "requests_per_minute": limits.requests_per_minute,
            "requests_per_day": limits.requests_per_day,
            "max_agents": limits.max_agents,
            "max_collections": limits.max_collections,
            "max_documents_per_day": limits.max_documents_per_day,
            "max_file_size_mb": limits.max_file_size_mb,
            "turn_timeout_s": limits.timeout_s,
            "allowed_model_providers": sorted(limits.allowed_model_providers),
        }


class ApiKeyCreate(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [{"name": "ci"}, {"name": "site backend", "scopes": ["chat"], "expires_in_days": 90}]
        }
    )

    name: str = Field("default", min_length=1, max_length=100)
    scopes: list[KeyScope] = Field(
        default_factory=lambda: [KeyScope.ADMIN],
        min_length=1,
        max_length=3,
        description="admin: everything; read: every GET; chat: chat sessions and reading conversations",
    )
    expires_in_days: int | None = Field(None, ge=1, le=3650, description="never expires when absent")


class ApiKeyOut(BaseModel):
    id: str
    name: str
    prefix: str
    scopes: list[str]
    created_at: datetime
    last_used_at: datetime | None
    revoked_at: datetime | None
    expires_at: datetime | None


class ApiKeyCreated(ApiKeyOut):
    api_key: str = Field(description="shown once; only its hash is stored")


# a web origin as browsers send it: scheme, host, optional port; no path, no trailing slash
ORIGIN_PATTERN = r"^https?://[A-Za-z0-9.-]{1,253}(:[0-9]{1,5})?$"


class AllowedOrigins(BaseModel):
    model_config = ConfigDict(
        extra="forbid", json_schema_extra={"examples": [{"allowed_origins": ["https://www.example.com"]}]}
    )

    allowed_origins: list[Annotated[str, Field(pattern=ORIGIN_PATTERN)]] = Field(max_length=50)
