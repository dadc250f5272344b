from datetime import date, datetime

from pydantic import BaseModel

from common.contracts.conversation import ConversationOut, MessageOut


class ConversationWithMessages(ConversationOut):
    messages: list[MessageOut]


class TenantStats(BaseModel):
    conversations: int
    messages: int
    total_tokens: int
    prompt_tokens: int
    completion_tokens: int
    messages_last_24h: int = 0
    message_tokens_last_24h: int = 0  # tokens of the messages' text stored in the last 24 hours


class EndUserUsage(BaseModel):
    end_user_id: str
    conversations: int
    turns: int
    total_tokens: int
    prompt_tokens: int
    completion_tokens: int
    last_active_at: datetime


class EndUsers(BaseModel):
    total: int  # end users with at least one conversation
    items: list[EndUserUsage]


class DailyUsage(BaseModel):
    day: date
    messages: int
    prompt_tokens: int
    completion_tokens: int
