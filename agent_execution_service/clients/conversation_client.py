from dataclasses import dataclass, field
from typing import Any

from common.clients.base_redis_client import BaseRedisClient
from common.contracts import conversation
from common.contracts.conversation import HistoryRequest, SavedMessages, SaveMessagesRequest
from common.models.actions import DomainAction
from common.models.conversations import TurnMessage

HISTORY_FIELDS = ("message_id", "role", "content", "tokens")  # what a turn uses of each history message


@dataclass(frozen=True)
class TurnHistory:
    """A conversation's history window (oldest first), the limits it was cut to and the history stamp it was
    read under (common.stamps)."""

    messages: tuple[dict[str, Any], ...]
    limits: tuple[int, int]
    stamp: str | None
    # each message as the model is given it (a LangChain message), by message id, once a turn has built it: a
    # kept history hands the ones still in its window on to the next, so a message is converted once
    converted: dict[str, Any] = field(default_factory=dict, compare=False, repr=False)


class ConversationClient(BaseRedisClient):
    async def history(
        self, parent: DomainAction, conversation_id: str, max_messages: int, max_tokens: int
    ) -> TurnHistory:
        request = HistoryRequest(conversation_id=conversation_id, max_messages=max_messages, max_tokens=max_tokens)
        reply = await self.call(conversation.GET_HISTORY, request, parent=parent)
        messages = tuple({name: getattr(m, name) for name in HISTORY_FIELDS} for m in reply.messages)
        return TurnHistory(messages, (max_messages, max_tokens), reply.stamp)

    async def save_messages(
        self, parent: DomainAction, conversation_id: str, messages: list[TurnMessage]
    ) -> SavedMessages:
        """A turn's messages, stored in order when this returns (pseudo-sync, so the next turn's history sees
        them) in one round trip; idempotent by `message_id`, so a redelivered turn saves nothing twice. Returns
        how many were new and the history stamps the save replaced and set."""
        request = SaveMessagesRequest(conversation_id=conversation_id, messages=messages)
        return await self.call(conversation.SAVE_MESSAGES, request, parent=parent)
