"""Chat events: what the execution service streams back (`orchestrator.chat.event`) and sockets receive.

The orchestrator adds a per-session `seq` to each event when it writes it to the session's event log.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field

MAX_MESSAGE_CHARS = 32_000  # one chat message's text


class Usage(BaseModel):
    prompt_tokens: int = Field(0, ge=0)
    completion_tokens: int = Field(0, ge=0)
    total_tokens: int = Field(0, ge=0)

    def __add__(self, other: Usage) -> Usage:
        return Usage(
            prompt_tokens=self.prompt_tokens + other.prompt_tokens,
            completion_tokens=self.completion_tokens + other.completion_tokens,
            total_tokens=self.total_tokens + other.total_tokens,
        )


class _Event(BaseModel):
    model_config = ConfigDict(extra="forbid")


class SessionReady(_Event):
    type: Literal["session_ready"] = "session_ready"
    session_id: str
    conversation_id: str
    agent_id: str
    max_message_chars: int = MAX_MESSAGE_CHARS  # what a client shows as the message's limit


class MessageStart(_Event):
    type: Literal["message_start"] = "message_start"
    task_id: str
    client_message_id: str | None = None
    content: str | None = None  # the user's message: a client that reloads shows it again from the event log


class Token(_Event):
    type: Literal["token"] = "token"
    task_id: str
    delta: str


class ToolCall(_Event):
    type: Literal["tool_call"] = "tool_call"
    task_id: str
    name: str
    args: dict[str, Any] = Field(default_factory=dict)


class ToolResult(_Event):
    type: Literal["tool_result"] = "tool_result"
    task_id: str
    name: str
    summary: str


class Sources(_Event):
    type: Literal["sources"] = "sources"
    task_id: str
    items: list[dict[str, Any]]


class MessageEnd(_Event):
    type: Literal["message_end"] = "message_end"
    task_id: str
    content: str
    usage: Usage = Field(default_factory=Usage)
    sources: list[dict[str, Any]] = Field(default_factory=list)
    cancelled: bool = False


class ChatError(_Event):
    type: Literal["error"] = "error"
    code: str
    message: str
    task_id: str | None = None
    retry_after: float | None = None
    budget: str | None = None  # quota_exceeded: which token budget (`tenant_day`, `agent_month`, ...)
    resets_at: datetime | None = None  # quota_exceeded: when that budget starts again


def turn_timeout(task_id: str, limit_s: float, *, kept: bool) -> ChatError:
    """The one way a turn ends past its time limit, whoever ends it: the execution service when its model is
    still writing (`kept`: what streamed is saved, marked incomplete), or the orchestrator's deadline sweeper
    when nothing answered at all (the turn's worker died or is stuck)."""
    message = f"The answer took longer than the {limit_s:.0f} s limit."
    if kept:
        message += " The answer so far is kept, marked incomplete."
    return ChatError(task_id=task_id, code="turn_timeout", message=message)


class Pong(_Event):
    type: Literal["pong"] = "pong"


class TurnRestart(_Event):
    """The turn is being generated again from the start (its worker died): discard its partial answer."""

    type: Literal["turn_restart"] = "turn_restart"
    task_id: str


ChatEvent = Annotated[
    SessionReady | MessageStart | Token | ToolCall | ToolResult | Sources | MessageEnd | ChatError | Pong | TurnRestart,
    Field(discriminator="type"),
]
TERMINAL_EVENTS = frozenset({"message_end", "error"})
