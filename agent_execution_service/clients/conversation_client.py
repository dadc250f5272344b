"""The conversation service, as a turn needs it: a conversation's history window, kept between turns while
unchanged, and the turn's messages saved.

A turn's save tells this client whether anyone else changed the conversation since its read (the stamp the save
replaced is the one the read came with): then the window read plus the messages saved is the next turn's
history, kept under the new stamp; otherwise it is forgotten. A kept window is used while its stamp is the one
the next turn came with (common.stamps) and it was cut to that turn's limits.
"""

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from cachetools import LRUCache
from redis.asyncio import Redis

from common.clients.base_redis_client import BaseRedisClient
from common.contracts import conversation
from common.contracts.conversation import (
    HistoryRequest,
    MemoryIndexRequest,
    MessageOut,
    RecallRequest,
    SavedMessages,
    SaveMessagesRequest,
    SaveSummaryRequest,
    Unsummarized,
    UnsummarizedRequest,
)
from common.models.actions import DomainAction
from common.models.conversations import TurnMessage, history_window
from common.settings import CommonSettings

HISTORY_FIELDS = ("message_id", "role", "content", "tokens")  # what a turn uses of each history message
KEPT_CONVERSATIONS = 1_000  # each copy is at most one history window


@dataclass(frozen=True)
class TurnHistory:
    """A conversation's history window (oldest first), the limits it was cut to and the history stamp it was
    read under (common.stamps)."""

    messages: tuple[dict[str, Any], ...]
    limits: tuple[int, int]
    stamp: str | None
    older: int = 0  # messages before the window
    unsummarized: int = 0  # of those, the ones the summary does not cover
    summary: str | None = None

    @property
    def message_ids(self) -> list[str]:
        return [message["message_id"] for message in self.messages]

    # each message as the model is given it (a LangChain message), by message id, once a turn has built it: a
    # kept history hands the ones still in its window on to the next, so a message is converted once
    converted: dict[str, Any] = field(default_factory=dict, compare=False, repr=False)


class ConversationClient(BaseRedisClient):
    def __init__(self, redis: Redis, settings: CommonSettings, origin_service: str):
        super().__init__(redis, settings, origin_service)
        self._kept: LRUCache[tuple[str, str], TurnHistory] = LRUCache(maxsize=KEPT_CONVERSATIONS)

    async def history(
        self, parent: DomainAction, conversation_id: str, limits: tuple[int, int], stamp: str | None = None
    ) -> TurnHistory:
        """The conversation's window under `limits` (max messages, max tokens): the kept one while current."""
        kept = self._kept.get((parent.tenant_id, conversation_id))
        if kept is not None and stamp is not None and kept.stamp == stamp and kept.limits == limits:
            return kept
        max_messages, max_tokens = limits
        request = HistoryRequest(conversation_id=conversation_id, max_messages=max_messages, max_tokens=max_tokens)
        reply = await self.call(conversation.GET_HISTORY, request, parent=parent)
        messages = tuple({name: getattr(m, name) for name in HISTORY_FIELDS} for m in reply.messages)
        return TurnHistory(messages, limits, reply.stamp, reply.older, reply.unsummarized, reply.summary)

    async def recall(
        self, parent: DomainAction, conversation_id: str, query: str, k: int, exclude_ids: list[str]
    ) -> list[MessageOut]:
        """The earlier messages most like `query` (outside the window `exclude_ids`), oldest first."""
        request = RecallRequest(conversation_id=conversation_id, query=query, k=k, exclude_ids=exclude_ids)
        return (await self.call(conversation.RECALL, request, parent=parent)).messages

    async def index(self, parent: DomainAction, conversation_id: str, message_ids: list[str]) -> None:
        """Have the messages embedded for recall (the conversation service does it, off the turn's path)."""
        await self.send(
            conversation.INDEX_MEMORY,
            MemoryIndexRequest(conversation_id=conversation_id, message_ids=message_ids),
            parent=parent,
        )

    async def unsummarized(self, parent: DomainAction, conversation_id: str, keep_last: int) -> Unsummarized:
        request = UnsummarizedRequest(conversation_id=conversation_id, keep_last=keep_last)
        return await self.call(conversation.GET_UNSUMMARIZED, request, parent=parent)

    async def save_summary(self, parent: DomainAction, conversation_id: str, summary: str, through: datetime) -> None:
        request = SaveSummaryRequest(conversation_id=conversation_id, summary=summary, through=through)
        await self.call(conversation.SAVE_SUMMARY, request, parent=parent)

    async def save_messages(
        self, parent: DomainAction, conversation_id: str, read: TurnHistory, messages: list[TurnMessage]
    ) -> None:
        """A turn's messages, stored in order when this returns (pseudo-sync, so the next turn's history sees
        them) in one round trip; idempotent by `message_id`, so a redelivered turn saves nothing twice. `read`,
        the window the turn was given, plus these is kept for the next turn when nobody else changed it."""
        key = (parent.tenant_id, conversation_id)
        request = SaveMessagesRequest(conversation_id=conversation_id, messages=messages)
        try:
            saved = await self.call(conversation.SAVE_MESSAGES, request, parent=parent)
        except BaseException:
            self._kept.pop(key, None)  # whether it was stored is unknown: forget it
            raise
        if not saved.stored or read.stamp is None or saved.replaced_stamp != read.stamp:
            self._kept.pop(key, None)
            return
        self._kept[key] = _extended(read, messages, saved)


def window_after(read: TurnHistory, messages: Sequence[TurnMessage]) -> tuple[list[dict[str, Any]], list[str]]:
    """The window `read` becomes once `messages` are stored after it (cut to the same limits, messages and
    tokens), and the ids of the messages that fell out of it."""
    present = {message["message_id"] for message in read.messages}
    added = [
        {"message_id": m.message_id, "role": m.role.value, "content": m.content, "tokens": m.tokens()}
        for m in messages
        if m.message_id not in present  # a re-run turn whose question was saved by its first attempt
    ]
    rows = [*read.messages, *added]
    window = history_window(reversed(rows), *read.limits, lambda m: m["tokens"])
    kept = {message["message_id"] for message in window}
    return window, [message["message_id"] for message in rows if message["message_id"] not in kept]


def _extended(read: TurnHistory, messages: Sequence[TurnMessage], saved: SavedMessages) -> TurnHistory:
    window, left = window_after(read, messages)
    converted = {m["message_id"]: read.converted[m["message_id"]] for m in window if m["message_id"] in read.converted}
    renewed = saved.summary != read.summary  # a summary written since the read: it covers what had left
    return TurnHistory(
        tuple(window),
        read.limits,
        saved.stamp,
        read.older + len(left),
        len(left) if renewed else read.unsummarized + len(left),
        saved.summary,
        converted,
    )
