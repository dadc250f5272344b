"""A conversation's history stamp: a random token the conversation service replaces whenever the
conversation's messages change (a save that stored something, a delete). A service that keeps its own copy of
a history between uses (the execution service, between the turns it runs) knows the copy is current while the
stamp in Redis is still the one it got with it, at the cost of one GET instead of a history read.

Replacing returns the stamp replaced, atomically (SET … GET): whoever saved knows whether anyone else changed
the conversation since it read the history. A missing stamp (new conversation, expired, Redis restarted)
matches no copy.
"""

from __future__ import annotations

import uuid

from redis.asyncio import Redis

from common.messaging.queue_manager import QueueManager

STAMP_TTL_S = 24 * 3600  # an idle conversation's copies stop being trusted after a day


def stamp_key(queues: QueueManager, tenant_id: str, conversation_id: str) -> str:
    return queues.state_key("conversation", "stamp", tenant_id, conversation_id)


async def current_stamp(redis: Redis, queues: QueueManager, tenant_id: str, conversation_id: str) -> str | None:
    stamp: str | None = await redis.get(stamp_key(queues, tenant_id, conversation_id))
    return stamp


async def stamp_for_read(redis: Redis, queues: QueueManager, tenant_id: str, conversation_id: str) -> str:
    """The stamp to hand out with a history about to be read (one is set if there is none). Taken before the
    read: a change landing in between leaves the copy labelled with an older stamp, never a newer one."""
    key = stamp_key(queues, tenant_id, conversation_id)
    async with redis.pipeline(transaction=False) as pipe:
        pipe.set(key, uuid.uuid4().hex, nx=True, ex=STAMP_TTL_S)
        pipe.get(key)
        _, stamp = await pipe.execute()
    return str(stamp)


async def restamp(redis: Redis, queues: QueueManager, tenant_id: str, conversation_id: str) -> tuple[str | None, str]:
    """A new stamp for a changed conversation: (the stamp it replaced, the new one)."""
    stamp = uuid.uuid4().hex
    replaced: str | None = await redis.set(
        stamp_key(queues, tenant_id, conversation_id), stamp, ex=STAMP_TTL_S, get=True
    )
    return replaced, stamp
