"""End-user tokens: minted by a tenant's backend for one agent and one of its own users (`common.auth`)."""

from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field

from common.auth import END_USER_ID_PATTERN

MAX_TOKEN_LIFETIME_S = 30 * 24 * 3600


class EndUserTokenCreate(BaseModel):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {"agent_id": "3f6c1a2e-5b7d-4c1e-9f0a-2b3c4d5e6f70", "end_user_id": "customer-42", "expires_in_s": 3600}
            ]
        },
    )

    agent_id: str = Field(min_length=1, max_length=36)
    end_user_id: str = Field(pattern=END_USER_ID_PATTERN, description="the tenant's own id of the user")
    expires_in_s: int = Field(3600, ge=60, le=MAX_TOKEN_LIFETIME_S, description="lifetime, 60 s to 30 days")
    request_budget: int | None = Field(
        None, ge=1, le=1_000_000, description="chat turns this token may start (no limit but the tier's if absent)"
    )


class EndUserTokenOut(BaseModel):
    id: str
    agent_id: str
    end_user_id: str
    request_budget: int | None
    created_at: datetime
    expires_at: datetime
    revoked_at: datetime | None


class EndUserTokenCreated(EndUserTokenOut):
    token: str = Field(description="shown once; only its hash is stored. Hand it to the end user's browser")
    tenant_id: str = Field(description="the widget's `data-tenant`")
