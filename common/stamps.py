"""Change stamps: a random token per object that its owning service replaces whenever the object changes (a
conversation's messages: a save that stored something, a delete; an agent's config: an update, a delete). A
service that keeps its own copy between uses (the execution service keeps agent configs and conversation
histories between turns) knows the copy is current while the stamp in Redis is still the one it got with it,
at the cost of one GET instead of a request to the owner.

The owner hands a stamp out with a read, taken before the read (a change landing in between leaves the copy
labelled with an older stamp, never a newer one). Replacing returns the stamp replaced, atomically (SET … GET):
whoever changed the object knows whether anyone else did since its own read. A missing stamp (new, expired,
Redis restarted) matches no copy.
"""

from __future__ import annotations

import uuid

from pydantic import BaseModel, ConfigDict
from redis.asyncio import Redis

from common.messaging.queue_manager import QueueManager

STAMP_TTL_S = 24 * 3600  # a copy of an object unchanged for a day stops being trusted


def history_stamp_key(queues: QueueManager, tenant_id: str, conversation_id: str) -> str:
    return queues.state_key("conversation", "stamp", tenant_id, conversation_id)


def agent_stamp_key(queues: QueueManager, tenant_id: str, agent_id: str) -> str:
    return queues.state_key("management", "stamp", tenant_id, agent_id)


class TurnStamps(BaseModel):
    """A chat turn's agent and conversation stamps, read by the orchestrator as the turn starts and carried in
    `execution.chat.run`: the execution service checks its kept copies against them without a round trip of
    its own (a copy that was current when the turn started is the one the turn uses)."""

    model_config = ConfigDict(extra="forbid")

    agent: str | None = None
    history: str | None = None


async def read_turn_stamps(
    redis: Redis, queues: QueueManager, tenant_id: str, agent_id: str, conversation_id: str
) -> TurnStamps:
    """The current stamps of a turn's agent and conversation, in one round trip."""
    keys = [agent_stamp_key(queues, tenant_id, agent_id), history_stamp_key(queues, tenant_id, conversation_id)]
    agent, history = await read_stamps(redis, keys)
    return TurnStamps(agent=agent, history=history)


async def read_stamps(redis: Redis, keys: list[str]) -> list[str | None]:
    """The current stamps of `keys`, in one round trip."""
    async with redis.pipeline(transaction=False) as pipe:
        for key in keys:
            pipe.get(key)
        stamps: list[str | None] = await pipe.execute()
    return stamps


async def stamp_for_read(redis: Redis, key: str) -> str:
    """The stamp to hand out with a read about to happen (one is set if there is none)."""
    async with redis.pipeline(transaction=False) as pipe:
        pipe.set(key, uuid.uuid4().hex, nx=True, ex=STAMP_TTL_S)
        pipe.get(key)
        _, stamp = await pipe.execute()
    return str(stamp)


async def restamp(redis: Redis, key: str) -> tuple[str | None, str]:
    """A new stamp for a changed object: (the stamp it replaced, the new one)."""
    stamp = uuid.uuid4().hex
    replaced: str | None = await redis.set(key, stamp, ex=STAMP_TTL_S, get=True)
    return replaced, stamp
