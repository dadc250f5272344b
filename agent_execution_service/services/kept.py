"""What this replica keeps between turns: the agents' configs and the conversations' histories it used last.

A turn needs its agent's config and its conversation's latest messages; asking the management and conversation
services is two round trips and a database read — most of a turn's time to its first token. Both rarely change
between two turns, and the history changes mostly by this service's own saves: after a turn it knows the
history the next turn needs (the window it read plus the messages it saved). A kept copy is used while its
object's change stamp (common.stamps) is still the one it came with — the orchestrator reads both stamps while
it starts the turn and sends them with it, so checking costs no round trip here — and is dropped as soon as
anything else changed the object (an agent edit, a turn on another replica, a deleted conversation, an expired
stamp); then the owner is asked again.
"""

from __future__ import annotations

from collections.abc import Sequence

from cachetools import LRUCache
from redis.asyncio import Redis

from agent_execution_service.clients.conversation_client import TurnHistory
from common.contracts.conversation import SavedMessages
from common.contracts.management import AgentConfig
from common.messaging.queue_manager import QueueManager
from common.models.conversations import TurnMessage, history_window
from common.stamps import TurnStamps, read_turn_stamps

KEPT_AGENTS = 10_000
KEPT_CONVERSATIONS = 1_000  # each copy is at most one history window


class Kept:
    def __init__(self, redis: Redis, queues: QueueManager):
        self.redis = redis
        self.queues = queues
        self._agents: LRUCache[tuple[str, str, str], AgentConfig] = LRUCache(maxsize=KEPT_AGENTS)
        self._histories: LRUCache[tuple[str, str], TurnHistory] = LRUCache(maxsize=KEPT_CONVERSATIONS)

    async def current(
        self, tenant_id: str, tier: str, agent_id: str, conversation_id: str, stamps: TurnStamps | None = None
    ) -> tuple[AgentConfig | None, TurnHistory | None]:
        """The kept agent config and history that are still current (each None otherwise): checked against
        `stamps` when the turn came with them, else against the stamps in Redis (one round trip)."""
        agent = self._agents.get((tenant_id, tier, agent_id))
        history = self._histories.get((tenant_id, conversation_id))
        if agent is None and history is None:
            return None, None
        if stamps is None:
            # sent from the turn's own task, before the worker's next read: a cancelled turn may cut these GETs
            # (they take nothing from Redis, and redis-py drops a connection cut mid-reply)
            stamps = await read_turn_stamps(self.redis, self.queues, tenant_id, agent_id, conversation_id)
        return (
            agent if _unchanged(agent, stamps.agent) else None,
            history if _unchanged(history, stamps.history) else None,
        )

    def agent_read(self, tenant_id: str, tier: str, agent: AgentConfig) -> None:
        self._agents[(tenant_id, tier, agent.id)] = agent

    def history_saved(
        self,
        tenant_id: str,
        conversation_id: str,
        read: TurnHistory,
        messages: Sequence[TurnMessage],
        outcome: SavedMessages | None,
    ) -> None:
        """After a save: keep `read` plus `messages` when nothing else changed the conversation in between
        (the stamp the save replaced is the one `read` came with); otherwise forget the conversation."""
        key = (tenant_id, conversation_id)
        if outcome is None or not outcome.stored or read.stamp is None or outcome.replaced_stamp != read.stamp:
            self._histories.pop(key, None)
            return
        present = {message["message_id"] for message in read.messages}
        added = [
            {"message_id": m.message_id, "role": m.role.value, "content": m.content, "tokens": m.tokens()}
            for m in messages
            if m.message_id not in present  # a re-run turn whose question was saved by its first attempt
        ]
        window = history_window(reversed([*read.messages, *added]), *read.limits, lambda m: m["tokens"])
        ids = [message["message_id"] for message in window]
        converted = {message_id: read.converted[message_id] for message_id in ids if message_id in read.converted}
        self._histories[key] = TurnHistory(tuple(window), read.limits, outcome.stamp, converted)


def _unchanged(copy: AgentConfig | TurnHistory | None, stamp: str | None) -> bool:
    return copy is not None and copy.stamp is not None and copy.stamp == stamp
