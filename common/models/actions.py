"""DomainAction / DomainActionResponse / ErrorDetail."""

from __future__ import annotations

import secrets
import uuid
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any, Self

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, model_validator

from common.models.tiers import Tier

# <domain>.<entity>.<verb>, or <domain>.<verb> as the catalogue's query.search and embedding.generate
ACTION_TYPE_PATTERN = r"^[a-z][a-z0-9_]*(\.[a-z][a-z0-9_]*){1,2}$"


def new_id() -> str:
    return str(uuid.uuid4())


def new_trace_id() -> str:
    """16 random bytes in hex, as a W3C trace context's trace id (no UUID object to build)."""
    return secrets.token_hex(16)


def utc_now() -> datetime:
    return datetime.now(UTC)


class ErrorType(StrEnum):
    VALIDATION_ERROR = "validation_error"
    NOT_FOUND = "not_found"
    UNAUTHORIZED = "unauthorized"
    FORBIDDEN = "forbidden"
    RATE_LIMITED = "rate_limited"
    QUOTA_EXCEEDED = "quota_exceeded"
    TIMEOUT = "timeout"
    CONFLICT = "conflict"
    DEPENDENCY_ERROR = "dependency_error"
    INTERNAL_ERROR = "internal_error"


class ErrorDetail(BaseModel):
    error_type: ErrorType
    error_code: str
    message: str
    details: dict[str, Any] | None = None


class DomainAction(BaseModel):
    """A request travelling between services: `<domain>.<entity>.<verb>` plus its data."""

    model_config = ConfigDict(extra="forbid")

    action_id: str = Field(default_factory=new_id)
    action_type: str = Field(pattern=ACTION_TYPE_PATTERN)
    timestamp: AwareDatetime = Field(default_factory=utc_now)
    tenant_id: str = Field(min_length=1)
    tenant_tier: Tier = Tier.FREE
    session_id: str | None = None
    task_id: str | None = None
    user_id: str | None = None
    agent_id: str | None = None
    origin_service: str = Field(min_length=1)
    correlation_id: str | None = None
    trace_id: str = Field(default_factory=new_trace_id)
    traceparent: str | None = Field(None, max_length=55)  # W3C trace context of the sending span (common.tracing)
    tracestate: str | None = Field(None, max_length=512)
    callback_queue_name: str | None = None
    callback_action_type: str | None = Field(None, pattern=ACTION_TYPE_PATTERN)
    deadline: AwareDatetime | None = None
    data: dict[str, Any] = Field(default_factory=dict)
    metadata: dict[str, Any] = Field(default_factory=dict)

    @property
    def domain(self) -> str:
        return self.action_type.split(".", 1)[0]

    def is_expired(self, now: datetime | None = None) -> bool:
        return self.deadline is not None and (now or utc_now()) > self.deadline


class DomainActionResponse(BaseModel):
    """The reply to a pseudo-synchronous action. `success` is true exactly when `error` is None."""

    action_id: str
    correlation_id: str
    trace_id: str
    success: bool
    data: dict[str, Any] | None = None
    error: ErrorDetail | None = None
    timestamp: datetime = Field(default_factory=utc_now)

    @model_validator(mode="after")
    def _success_iff_no_error(self) -> Self:
        if self.success != (self.error is None):
            raise ValueError("success must be True exactly when error is None")
        return self

    @classmethod
    def ok(cls, action: DomainAction, data: dict[str, Any] | None) -> DomainActionResponse:
        return cls(
            action_id=action.action_id,
            correlation_id=action.correlation_id or action.action_id,
            trace_id=action.trace_id,
            success=True,
            data=data,
        )

    @classmethod
    def failed(cls, action_id: str, correlation_id: str, trace_id: str, error: ErrorDetail) -> Self:
        return cls(
            action_id=action_id,
            correlation_id=correlation_id,
            trace_id=trace_id,
            success=False,
            error=error,
        )
