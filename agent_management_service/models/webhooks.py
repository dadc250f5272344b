from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field, field_validator

from common.contracts.management import WebhookEventType


class WebhookEndpointCreate(BaseModel):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "url": "https://hooks.example.com/nooble4",
                    "event_types": ["document.ready", "document.failed"],
                    "description": "CRM sync",
                }
            ]
        },
    )

    url: str = Field(min_length=8, max_length=2_000, pattern=r"^https?://[^\s\x00-\x1f]+$")
    event_types: list[WebhookEventType] = Field(min_length=1, max_length=10)
    description: str = Field("", max_length=500)

    @field_validator("event_types")
    @classmethod
    def _distinct(cls, value: list[WebhookEventType]) -> list[WebhookEventType]:
        return list(dict.fromkeys(value))


class WebhookEndpointOut(BaseModel):
    id: str
    url: str
    description: str
    event_types: list[str]
    created_at: datetime
    disabled_at: datetime | None


class WebhookEndpointCreated(WebhookEndpointOut):
    secret: str = Field(description="the signing secret (`whsec_...`), shown once; verify deliveries with it")


class WebhookAttemptOut(BaseModel):
    attempted_at: datetime
    status_code: int | None
    error: str | None
    duration_ms: float


class WebhookDeliveryOut(BaseModel):
    id: str = Field(description="the `webhook-id` header of every attempt")
    event_type: str
    event_id: str
    status: str  # pending | delivered | failed
    attempts: int
    last_status: int | None
    last_error: str | None
    next_attempt_at: datetime | None
    created_at: datetime
    delivered_at: datetime | None
    log: list[WebhookAttemptOut]
