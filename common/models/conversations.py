"""A conversation's messages as services hand them to the conversation service (`conversation.message.save`,
`conversation.messages.save`): one definition for the sender and the store."""

from __future__ import annotations

from enum import StrEnum
from typing import Any

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field

from common.models.chat import Usage


class Role(StrEnum):
    USER = "user"
    ASSISTANT = "assistant"
    SYSTEM = "system"
    TOOL = "tool"


class NewMessage(BaseModel):
    """A message to store, idempotent by `message_id`."""

    model_config = ConfigDict(extra="forbid")

    message_id: str | None = Field(None, min_length=1, max_length=64)
    role: Role
    content: str = Field(max_length=200_000)
    usage: Usage | None = None
    sources: list[dict[str, Any]] = Field(default_factory=list)
    tool_calls: list[dict[str, Any]] = Field(default_factory=list)
    created_at: AwareDatetime | None = None  # when it was written; the action's time when not given


class TurnMessage(NewMessage):
    message_id: str = Field(min_length=1, max_length=64)
