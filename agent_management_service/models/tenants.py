from datetime import datetime

from pydantic import BaseModel, Field

from common.models.tiers import Tier


class TenantOut(BaseModel):
    id: str
    name: str
    tier: Tier
    created_at: datetime


class ApiKeyCreate(BaseModel):
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
    api_key: str = Field(min_length=1, max_length=200)


class ResolvedTenant(BaseModel):
    tenant_id: str
    tier: Tier
