from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field

from common.models.tiers import Tier


class TenantOut(BaseModel):
    id: str
    name: str
    tier: Tier
    created_at: datetime


class ApiKeyCreate(BaseModel):
    model_config = ConfigDict(json_schema_extra={"examples": [{"name": "ci"}]})

    name: str = Field("default", min_length=1, max_length=100)


class ApiKeyOut(BaseModel):
    id: str
    name: str
    prefix: str
    created_at: datetime
    last_used_at: datetime | None
    revoked_at: datetime | None


class ApiKeyCreated(ApiKeyOut):
    api_key: str = Field(description="shown once; only its hash is stored")


class ResolveKeyRequest(BaseModel):
    """Only the key's SHA-256 crosses Redis: nothing in a stream could be used to authenticate."""

    key_hash: str = Field(pattern=r"^[0-9a-f]{64}$")


class ResolveTenantRequest(BaseModel):
    tenant_id: str = Field(pattern=r"^[A-Za-z0-9_-]{1,36}$")


class ResolvedTenant(BaseModel):
    tenant_id: str
    tier: Tier
