"""Chat sessions and their event logs, in Redis, so any orchestrator replica can serve any socket.

A session is a hash (tenant, agent, conversation, the running turn, the last `seq`). Every event
sent to a socket is first appended to the session's event log, a stream whose entry ids are
`0-<seq>`: appending and numbering happen in one Lua script, so `seq` grows without gaps or
duplicates whichever replica writes, and a client reconnecting with `last_seq` reads the rest
with one XREAD. Sockets only ever read the log, never get events pushed directly.
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass
from typing import NamedTuple

from pydantic import BaseModel
from redis.asyncio import Redis

from common.messaging.queue_manager import QueueManager
from common.messaging.redis_manager import MAX_BLOCK_S
from common.models.chat import TurnRestart

READ_BLOCK_S = MAX_BLOCK_S / 2  # also how long a closed socket's reader takes to notice

# Every script logs its event the same way: ARGV[1] event, ARGV[2] maxlen, ARGV[3] log ttl.
_LOG_EVENT = """
local seq = redis.call('HINCRBY', KEYS[1], 'seq', 1)
redis.call('XADD', KEYS[2], 'MAXLEN', '~', ARGV[2], '0-' .. seq, 'e', ARGV[1])
redis.call('EXPIRE', KEYS[2], ARGV[3])
"""

_APPEND = (
    """
if redis.call('EXISTS', KEYS[1]) == 0 then return 0 end
"""
    + _LOG_EVENT
    + "return seq"
)

# A turn past its deadline with no end: its timeout event (stored as it began) is logged and the turn ends.
# The one way a turn times out on this side, for the deadline sweeper and for a turn starting after it.
_END_OVERDUE = """
local function end_overdue(now_ms, maxlen, log_ttl)
  if tonumber(redis.call('HGET', KEYS[1], 'active_until') or '0') > now_ms then return 0 end
  local ended = redis.call('HINCRBY', KEYS[1], 'seq', 1)
  local event = redis.call('HGET', KEYS[1], 'on_timeout') or cjson.encode({type = 'error', code = 'turn_timeout',
    task_id = redis.call('HGET', KEYS[1], 'active_task'), message = 'The answer took longer than its time limit.'})
  redis.call('XADD', KEYS[2], 'MAXLEN', '~', maxlen, '0-' .. ended, 'e', event)
  redis.call('EXPIRE', KEYS[2], log_ttl)
  redis.call('HDEL', KEYS[1], 'active_task', 'active_until', 'on_timeout', 'ev_attempt', 'ev_n')
  return ended
end
"""

# ARGV 4-8: task_id, now_ms, active_until_ms, session ttl, timeout event. 0 = a turn is running, -1 = no
# session. Starting a turn also renews the session's TTL.
_BEGIN_TURN = (
    _END_OVERDUE
    + """
if redis.call('EXISTS', KEYS[1]) == 0 then return -1 end
local running = redis.call('HEXISTS', KEYS[1], 'active_task') == 1
if running and end_overdue(tonumber(ARGV[5]), ARGV[2], ARGV[3]) == 0 then return 0 end
redis.call('HDEL', KEYS[1], 'ev_attempt', 'ev_n')
redis.call('HSET', KEYS[1], 'active_task', ARGV[4], 'active_until', ARGV[6], 'on_timeout', ARGV[8])
redis.call('EXPIRE', KEYS[1], ARGV[7])
"""
    + _LOG_EVENT
    + "return seq"
)

# ARGV 4-8: task_id, terminal, attempt, n, restart event. Events of a turn that is no longer running are
# dropped, and so are replays: an event numbered (attempt, n) is logged once, an older attempt's events are
# dropped, and the first event of a newer attempt logs the restart event first (the client discards the
# partial answer). n = 0 means "not numbered" (e.g. a failure reported by the messaging layer).
_TASK_EVENT = (
    """
if redis.call('HGET', KEYS[1], 'active_task') ~= ARGV[4] then return 0 end
local attempt, n = tonumber(ARGV[6]), tonumber(ARGV[7])
if n > 0 then
  local last_attempt = tonumber(redis.call('HGET', KEYS[1], 'ev_attempt') or '0')
  local last_n = tonumber(redis.call('HGET', KEYS[1], 'ev_n') or '0')
  if attempt < last_attempt or (attempt == last_attempt and n <= last_n) then return 0 end
  if attempt > last_attempt and last_attempt > 0 then
    local restart_seq = redis.call('HINCRBY', KEYS[1], 'seq', 1)
    redis.call('XADD', KEYS[2], 'MAXLEN', '~', ARGV[2], '0-' .. restart_seq, 'e', ARGV[8])
  end
  redis.call('HSET', KEYS[1], 'ev_attempt', attempt, 'ev_n', n)
end
"""
    + _LOG_EVENT
    + """
if ARGV[5] == '1' then
  redis.call('HDEL', KEYS[1], 'active_task', 'active_until', 'on_timeout', 'ev_attempt', 'ev_n')
end
return seq
"""
)

# ARGV 1-4: maxlen, log ttl, task_id, now_ms. Ends the running turn `task_id` if its time is up (its seq, else 0).
_EXPIRE_TURN = (
    _END_OVERDUE
    + """
if redis.call('HGET', KEYS[1], 'active_task') ~= ARGV[3] then return 0 end
return end_overdue(tonumber(ARGV[4]), ARGV[1], ARGV[2])
"""
)


class LoggedEvent(NamedTuple):
    seq: int
    json: str  # the event as the client gets it, `seq` included


@dataclass(frozen=True)
class Session:
    session_id: str
    tenant_id: str
    tier: str
    agent_id: str
    conversation_id: str
    user_id: str | None
    active_task: str | None
    active_until_ms: int
    seq: int

    def turn_running(self, now_ms: int | None = None) -> bool:
        """A turn is running and its time is not up."""
        return bool(self.active_task) and self.active_until_ms > (now_ms or int(time.time() * 1000))


class SessionStore:
    def __init__(
        self,
        redis: Redis,
        queues: QueueManager,
        *,
        ttl_s: int,
        log_ttl_s: int,
        log_maxlen: int,
        reader: Redis | None = None,
    ):
        self.redis = redis
        self.reader = reader or redis  # sockets' blocking reads: their own pool, so they never starve the rest
        self.queues = queues
        self.ttl_s = ttl_s
        self.log_ttl_s = log_ttl_s
        self.log_maxlen = log_maxlen
        self._append = redis.register_script(_APPEND)
        self._begin_turn = redis.register_script(_BEGIN_TURN)
        self._task_event = redis.register_script(_TASK_EVENT)
        self._expire_turn = redis.register_script(_EXPIRE_TURN)
        self.deadlines = queues.state_key("orchestrator", "turn_deadlines")  # running turns by deadline (ms)

    def _keys(self, session_id: str) -> list[str]:
        return list(self.queues.session_keys(session_id))

    async def create(
        self, session_id: str, *, tenant_id: str, tier: str, agent_id: str, conversation_id: str, user_id: str | None
    ) -> None:
        fields = {
            "tenant_id": tenant_id,
            "tier": tier,
            "agent_id": agent_id,
            "conversation_id": conversation_id,
            "user_id": user_id or "",
            "seq": 0,
        }
        key = self._keys(session_id)[0]
        async with self.redis.pipeline(transaction=True) as pipe:
            pipe.hset(key, mapping=fields)
            pipe.expire(key, self.ttl_s)
            await pipe.execute()

    async def get(self, session_id: str) -> Session | None:
        doc = await self.redis.hgetall(self._keys(session_id)[0])  # type: ignore[misc]  # redis-py types async commands as "Awaitable[T] | T"
        if not doc:
            return None
        return Session(
            session_id=session_id,
            tenant_id=doc["tenant_id"],
            tier=doc["tier"],
            agent_id=doc["agent_id"],
            conversation_id=doc["conversation_id"],
            user_id=doc["user_id"] or None,
            active_task=doc.get("active_task") or None,
            active_until_ms=int(doc.get("active_until") or 0),
            seq=int(doc.get("seq", 0)),
        )

    async def delete(self, session_id: str) -> None:
        await self.redis.delete(*self._keys(session_id))

    async def append(self, session_id: str, event: BaseModel) -> int:
        """Append a session-level event; returns its seq (0 when the session is gone)."""
        return int(await self._append(keys=self._keys(session_id), args=[*self._event_args(event)]))

    async def begin_turn(
        self, session_id: str, task_id: str, start_event: BaseModel, max_seconds: float, timeout_event: BaseModel
    ) -> int:
        """Marks `task_id` as the running turn until `max_seconds` from now (indexed for the deadline sweeper;
        `timeout_event` is what ends it then), logs `start_event` and renews the session's TTL. A previous turn
        past its deadline is ended first.

        Returns the event's seq, 0 when a turn is running, -1 when the session is gone."""
        now_ms = int(time.time() * 1000)
        until_ms = now_ms + int(max_seconds * 1000)
        args: list[str | int] = [*self._event_args(start_event), task_id, now_ms, until_ms, self.ttl_s]
        args.append(timeout_event.model_dump_json(exclude_none=True))
        # side by side (the index is in another cluster slot); a refused turn's entry is dropped by the sweeper
        started, _ = await asyncio.gather(
            self._begin_turn(keys=self._keys(session_id), args=args),
            self.redis.zadd(self.deadlines, {_deadline_member(session_id, task_id): until_ms}),
        )
        return int(started)

    async def task_event(
        self, session_id: str, task_id: str, event: BaseModel, *, terminal: bool, attempt: int = 0, n: int = 0
    ) -> int:
        """Logs an event of the running turn (a terminal one ends it) once per (attempt, n); 0 when that turn is
        not running or the event was already logged."""
        restart = TurnRestart(task_id=task_id).model_dump_json()
        args: list[str | int] = [*self._event_args(event), task_id, "1" if terminal else "0", attempt, n, restart]
        if not terminal:
            return int(await self._task_event(keys=self._keys(session_id), args=args))
        logged, _ = await asyncio.gather(
            self._task_event(keys=self._keys(session_id), args=args),
            self.redis.zrem(self.deadlines, _deadline_member(session_id, task_id)),
        )
        return int(logged)

    async def overdue_turns(self, now_ms: int, limit: int = 100) -> list[tuple[str, str]]:
        """(session id, task id) of turns whose deadline passed, earliest first."""
        members = await self.redis.zrangebyscore(self.deadlines, "-inf", now_ms, start=0, num=limit)
        return [_parse_deadline_member(member) for member in members]

    async def next_deadline_ms(self) -> int | None:
        first = await self.redis.zrange(self.deadlines, 0, 0, withscores=True)
        return int(first[0][1]) if first else None

    async def expire_turn(self, session_id: str, task_id: str, now_ms: int) -> int:
        """Ends turn `task_id` with the timeout event it began with if it is still running past its deadline
        (its seq; 0 otherwise), and drops it from the deadline index either way."""
        args: list[str | int] = [self.log_maxlen, self.log_ttl_s, task_id, now_ms]
        ended = await self._expire_turn(keys=self._keys(session_id), args=args)
        await self.redis.zrem(self.deadlines, _deadline_member(session_id, task_id))
        return int(ended)

    def _event_args(self, event: BaseModel) -> tuple[str, int, int]:
        return event.model_dump_json(exclude_none=True), self.log_maxlen, self.log_ttl_s

    async def read_events(
        self, session_id: str, after_seq: int, *, reader: Redis | None = None, count: int = 200
    ) -> list[LoggedEvent]:
        """Events with seq > `after_seq`, oldest first; waits up to a second for new ones (on `reader`, e.g. a
        socket's own connection, else the store's reader pool)."""
        key = self._keys(session_id)[1]
        block_ms = int(READ_BLOCK_S * 1000)
        reply = await (reader or self.reader).xread({key: f"0-{after_seq}"}, count=count, block=block_ms)
        events = []
        for _, entries in reply or []:
            for entry_id, fields in entries:
                seq = int(entry_id.split("-")[1])
                events.append(LoggedEvent(seq, with_seq(seq, fields["e"])))
        return events


def _deadline_member(session_id: str, task_id: str) -> str:
    return f"{session_id} {task_id}"


def _parse_deadline_member(member: str) -> tuple[str, str]:
    session_id, _, task_id = member.partition(" ")
    return session_id, task_id


def with_seq(seq: int, event_json: str) -> str:
    """The logged event (a JSON object) with its `seq` first, without parsing it."""
    body = event_json.strip()[1:].lstrip()  # after the opening brace
    return f'{{"seq":{seq}' + ("" if body.startswith("}") else ",") + body
