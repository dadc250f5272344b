"""The conversation service's actions: storing a turn's messages, reading a history window, closing a session,
a conversation's summary."""

from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from common.contracts.contract import call, send
from common.models.chat import Usage
from common.models.conversations import NewMessage, Role, TurnMessage


class SaveMessageRequest(NewMessage):
    """`conversation.message.save`: one message; `message_id` defaults to the action id."""

    conversation_id: str = Field(min_length=1, max_length=64)


class SaveMessagesRequest(BaseModel):
    """`conversation.messages.save`: a turn's messages (its question and its answer) in one transaction, in
    order; each idempotent by its `message_id`."""

    model_config = ConfigDict(extra="forbid")

    conversation_id: str = Field(min_length=1, max_length=64)
    messages: list[TurnMessage] = Field(min_length=1, max_length=20)


class HistoryRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    conversation_id: str = Field(min_length=1, max_length=64)
    max_messages: int = Field(20, ge=0, le=1_000)
    max_tokens: int = Field(4_000, ge=0, le=1_000_000)


class CloseSessionRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    session_id: str = Field(min_length=1, max_length=64)


class MessageOut(BaseModel):
    message_id: str
    role: Role
    content: str
    tokens: int
    usage: Usage | None = None
    sources: list[dict[str, Any]]
    tool_calls: list[dict[str, Any]]
    incomplete: bool = False
    context: dict[str, Any] | None = None  # on an answer: the window's ids, the summary, the recalled ids
    created_at: datetime


class History(BaseModel):
    conversation_id: str
    messages: list[MessageOut]
    total_tokens: int
    stamp: str | None = None  # the conversation's history stamp when read (common.stamps)
    older: int = 0  # messages before the window
    unsummarized: int = 0  # of those, how many the summary does not cover yet
    summary: str | None = None  # the running summary of the older messages


class SavedMessages(BaseModel):
    """What a save did: how many messages were new and, when any was, the history stamp it replaced and the
    new one (a caller that read the history under `replaced_stamp` knows its copy plus these is current)."""

    stored: int
    replaced_stamp: str | None = None
    stamp: str | None = None
    summary: str | None = None  # the conversation's running summary as of the save


class ConversationOut(BaseModel):
    id: str
    agent_id: str | None
    session_id: str | None
    end_user_id: str | None
    title: str | None
    message_count: int
    total_tokens: int
    prompt_tokens: int
    completion_tokens: int
    messages_last_24h: int = 0
    message_tokens_last_24h: int = 0  # tokens of the messages' text stored in the last 24 hours
    created_at: datetime
    updated_at: datetime
    closed_at: datetime | None


class ConversationGetRequest(BaseModel):
    """`conversation.conversation.get`: a conversation's summary (no messages), e.g. to check whose it is."""

    model_config = ConfigDict(extra="forbid")

    conversation_id: str = Field(min_length=1, max_length=64)


SAVE_MESSAGE = send("conversation.message.save", SaveMessageRequest)
SAVE_MESSAGES = call("conversation.messages.save", SaveMessagesRequest, SavedMessages)
GET_HISTORY = call("conversation.history.get", HistoryRequest, History)
CLOSE_SESSION = send("conversation.session.close", CloseSessionRequest)
GET_CONVERSATION = call("conversation.conversation.get", ConversationGetRequest, ConversationOut)


class MemoryIndexRequest(BaseModel):
    """`conversation.memory.index`: embed these messages (off the turn's path) so they can be recalled."""

    model_config = ConfigDict(extra="forbid")

    conversation_id: str = Field(min_length=1, max_length=64)
    message_ids: list[str] = Field(min_length=1, max_length=20)


class RecallRequest(BaseModel):
    """`conversation.memory.recall`: the earlier messages most like `query`, outside `exclude_ids` (the window)."""

    model_config = ConfigDict(extra="forbid")

    conversation_id: str = Field(min_length=1, max_length=64)
    query: str = Field(min_length=1, max_length=32_000)
    k: int = Field(4, ge=1, le=20)
    exclude_ids: list[str] = Field(default_factory=list, max_length=1_000)


class Recalled(BaseModel):
    messages: list[MessageOut]  # oldest first


class UnsummarizedRequest(BaseModel):
    """`conversation.memory.unsummarized`: the summary and the messages it does not cover yet, the most recent
    `keep_last` (the window) left out."""

    model_config = ConfigDict(extra="forbid")

    conversation_id: str = Field(min_length=1, max_length=64)
    keep_last: int = Field(ge=0, le=1_000)
    limit: int = Field(100, ge=1, le=500)


class Unsummarized(BaseModel):
    summary: str | None
    messages: list[MessageOut]  # oldest first


class SaveSummaryRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    conversation_id: str = Field(min_length=1, max_length=64)
    summary: str = Field(max_length=20_000)
    through: datetime  # the last message it covers


INDEX_MEMORY = send("conversation.memory.index", MemoryIndexRequest)
RECALL = call("conversation.memory.recall", RecallRequest, Recalled)
GET_UNSUMMARIZED = call("conversation.memory.unsummarized", UnsummarizedRequest, Unsummarized)
SAVE_SUMMARY = call("conversation.memory.save_summary", SaveSummaryRequest, SavedMessages)
