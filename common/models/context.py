from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from pydantic import BaseModel, Field

from common.models.actions import new_id, utc_now
from common.models.tiers import Tier


class ContextType(StrEnum):
    AGENT = "agent"
    WORKFLOW = "workflow"
    COLLECTION = "collection"


class ExecutionContext(BaseModel):
    """Who is running what: carried in `DomainAction.metadata["context"]` when a flow needs it."""

    context_id: str = Field(default_factory=new_id)
    context_type: ContextType
    tenant_id: str = Field(min_length=1)
    tenant_tier: Tier = Tier.FREE
    session_id: str | None = None
    primary_agent_id: str
    agents: list[str] = Field(default_factory=list)
    collections: list[str] = Field(default_factory=list)
    metadata: dict[str, Any] = Field(default_factory=dict)
    created_at: datetime = Field(default_factory=utc_now)
