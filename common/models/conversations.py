"""A conversation's messages as services hand them to the conversation service (`conversation.message.save`,
`conversation.messages.save`): one definition for the sender and the store."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from enum import StrEnum
from typing import Any, TypeVar

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field

from common.models.chat import Usage
from common.tokens import count_tokens

T = TypeVar("T")


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
    incomplete: bool = False  # an answer cut short (the turn's time limit): what streamed, kept and marked
    context: dict[str, Any] | None = None  # on an answer: what its model was given (window, summary, recalled)
    created_at: AwareDatetime | None = None  # when it was written; the action's time when not given

    def tokens(self) -> int:
        """What it weighs in a history window: an answer its completion tokens, anything else its text's."""
        if self.usage and self.role == Role.ASSISTANT:
            return self.usage.completion_tokens
        return count_tokens(self.content)


class TurnMessage(NewMessage):
    message_id: str = Field(min_length=1, max_length=64)


def history_window(
    newest_first: Iterable[T], max_messages: int, max_tokens: int, tokens: Callable[[T], int]
) -> list[T]:
    """The most recent messages that fit both limits, oldest first: taken newest first until one more would
    pass either limit. (A window of a window plus newer messages is the window of all of them.)"""
    kept: list[T] = []
    used = 0
    for message in newest_first:
        weight = tokens(message)
        if len(kept) == max_messages or used + weight > max_tokens:
            break
        used += weight
        kept.append(message)
    return kept[::-1]
