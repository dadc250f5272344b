"""The execution service's actions: run a chat turn (its events stream back as `orchestrator.chat.event`), and
cancel one."""

from pydantic import BaseModel, ConfigDict, Field

from common.contracts import orchestrator
from common.contracts.contract import send, stream
from common.stamps import TurnStamps


class ChatRunRequest(BaseModel):
    """`execution.chat.run`: one turn; the action carries `task_id`, `session_id` and `agent_id`."""

    model_config = ConfigDict(extra="forbid")

    session_id: str = Field(min_length=1, max_length=64)
    conversation_id: str = Field(min_length=1, max_length=64)
    message: str = Field(min_length=1, max_length=32_000)
    client_message_id: str | None = Field(None, max_length=64)
    stamps: TurnStamps | None = None  # the agent's and conversation's stamps as the turn started


class CancelRequest(BaseModel):
    """`execution.task.cancel`."""

    model_config = ConfigDict(extra="forbid")

    task_id: str = Field(min_length=1, max_length=64)


RUN_CHAT = stream("execution.chat.run", ChatRunRequest, orchestrator.CHAT_EVENT)
CANCEL_TASK = send("execution.task.cancel", CancelRequest)


class SummarizeRequest(BaseModel):
    """`execution.memory.summarize`: fold the conversation's older messages into its running summary (sent by a
    turn as it ends, handled by any execution worker: never on a turn's path)."""

    model_config = ConfigDict(extra="forbid")

    conversation_id: str = Field(min_length=1, max_length=64)


SUMMARIZE = send("execution.memory.summarize", SummarizeRequest)
