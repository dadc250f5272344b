"""The orchestrator's callback: a chat turn's events, streamed by the execution service to the list of the
orchestrator replica that started the turn (DESIGN.md §6)."""

from typing import Self

from pydantic import BaseModel, ConfigDict, Field, model_validator

from common.contracts.contract import callback
from common.models.actions import ErrorDetail
from common.models.chat import ChatEvent


class ChatEventCallback(BaseModel):
    """One event of one task, numbered; or, when the turn could not run at all (its action was refused by the
    execution worker), the error the worker called back with (`error`, not numbered: nothing else was sent)."""

    model_config = ConfigDict(extra="forbid")

    task_id: str | None = Field(None, min_length=1, max_length=64)
    event: ChatEvent | None = None
    error: ErrorDetail | None = None
    # Which run of the turn sent it (the execution action's delivery count) and its number within that run:
    # the orchestrator logs each (attempt, n) once, drops older runs' events and tells the client of a re-run.
    attempt: int = Field(0, ge=0, le=1_000)
    n: int = Field(0, ge=0, le=10_000_000)

    @model_validator(mode="after")
    def _event_or_error(self) -> Self:
        if (self.event is None) == (self.error is None):
            raise ValueError("a chat event callback carries an event or an error")
        return self


CHAT_EVENT = callback("orchestrator.chat.event", ChatEventCallback)
