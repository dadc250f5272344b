"""REST bodies and WebSocket client frames of the chat API."""

from typing import Annotated, Literal

from pydantic import AliasChoices, BaseModel, ConfigDict, Field, TypeAdapter

from common.auth import END_USER_ID_PATTERN
from common.models.chat import MAX_MESSAGE_CHARS


class SessionCreate(BaseModel):
    model_config = ConfigDict(
        extra="forbid", json_schema_extra={"examples": [{"agent_id": "3f6c1a2e-5b7d-4c1e-9f0a-2b3c4d5e6f70"}]}
    )

    agent_id: str = Field(min_length=1, max_length=64)
    # continue an earlier conversation; ids travel in headers and keys, so only these characters
    conversation_id: str | None = Field(None, pattern=r"^[A-Za-z0-9._:-]{1,64}$")
    end_user_id: str | None = Field(
        None,
        pattern=END_USER_ID_PATTERN,
        validation_alias=AliasChoices("end_user_id", "user_id"),
        description="the tenant's own id of the user, kept with the conversation (`user_id` is also accepted); "
        "an end-user token's own end user when omitted",
    )


class SessionOut(BaseModel):
    session_id: str
    conversation_id: str
    agent_id: str
    ws_url: str
    active_task: str | None = None
    last_seq: int = 0


class MessageFrame(BaseModel):
    model_config = ConfigDict(extra="forbid")

    type: Literal["message"]
    content: str = Field(min_length=1, max_length=MAX_MESSAGE_CHARS)
    client_message_id: str | None = Field(None, max_length=64)


class CancelFrame(BaseModel):
    model_config = ConfigDict(extra="forbid")

    type: Literal["cancel"]
    task_id: str = Field(min_length=1, max_length=64)


class PingFrame(BaseModel):
    model_config = ConfigDict(extra="forbid")

    type: Literal["ping"]


ClientFrame = Annotated[MessageFrame | CancelFrame | PingFrame, Field(discriminator="type")]
client_frame_adapter: TypeAdapter[MessageFrame | CancelFrame | PingFrame] = TypeAdapter(ClientFrame)
FRAME_TYPES = ("message", "cancel", "ping")
