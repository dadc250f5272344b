"""The conversation histories this replica used last, kept for its next turn of the same conversation.

A turn needs its conversation's latest messages. Reading them is a round trip to the conversation service and
a database read — half of a turn's time to first token. But the execution service writes every chat message
itself, so after a turn it knows the history the next turn needs: the window it read plus the messages it
saved. That copy is used while the conversation's history stamp (common.history_stamp) is still the one the
save produced — one Redis GET — and dropped as soon as anything else changed the conversation (a turn on
another replica, a delete, an expired stamp), when the history is read again.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from typing import Any

from cachetools import LRUCache
from redis.asyncio import Redis

from agent_execution_service.clients.conversation_client import TurnHistory
from common.history_stamp import current_stamp
from common.messaging.queue_manager import QueueManager
from common.models.conversations import TurnMessage, history_window

KEPT_CONVERSATIONS = 1_000  # per replica; each copy is at most one history window


class KnownHistories:
    def __init__(self, redis: Redis, queues: QueueManager, maxsize: int = KEPT_CONVERSATIONS):
        self.redis = redis
        self.queues = queues
        self._known: LRUCache[tuple[str, str], TurnHistory] = LRUCache(maxsize=maxsize)

    async def current(self, tenant_id: str, conversation_id: str, limits: tuple[int, int]) -> TurnHistory | None:
        """The kept copy within `limits`, if the conversation has not changed since."""
        known = self._known.get((tenant_id, conversation_id))
        if known is None or known.limits != limits:
            return None
        # shielded: a turn that stops waiting (its agent changed) never cuts a Redis read
        stamp = await asyncio.shield(current_stamp(self.redis, self.queues, tenant_id, conversation_id))
        return known if stamp == known.stamp else None

    def saved(
        self,
        tenant_id: str,
        conversation_id: str,
        read: TurnHistory,
        messages: Sequence[TurnMessage],
        outcome: dict[str, Any],
    ) -> None:
        """After a save: keep `read` plus `messages` when nothing else changed the conversation in between
        (the stamp the save replaced is the one `read` came with); otherwise forget the conversation."""
        key = (tenant_id, conversation_id)
        if not outcome.get("stored") or read.stamp is None or outcome.get("replaced_stamp") != read.stamp:
            self._known.pop(key, None)
            return
        present = {message["message_id"] for message in read.messages}
        added = [
            {"message_id": m.message_id, "role": m.role.value, "content": m.content, "tokens": m.tokens()}
            for m in messages
            if m.message_id not in present  # a re-run turn whose question was saved by its first attempt
        ]
        window = history_window(reversed([*read.messages, *added]), *read.limits, lambda m: m["tokens"])
        self._known[key] = TurnHistory(tuple(window), read.limits, outcome["stamp"])
