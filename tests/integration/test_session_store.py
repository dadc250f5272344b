"""The orchestrator's session store on real Redis: numbering, turn ownership, TTL renewal, replay."""

from __future__ import annotations

import asyncio
import json
import time
from typing import Any

from agent_orchestrator_service.clients.execution_client import ExecutionClient
from agent_orchestrator_service.services.session_store import SessionStore, with_seq
from agent_orchestrator_service.services.turn_deadlines import DeadlineSweeper
from common.messaging.codec import ACTION_FIELD
from common.models.chat import ChatError, MessageEnd, MessageStart, Pong, Token, turn_timeout
from tests.support.helpers import eventually


async def begin(store: SessionStore, session_id: str, task_id: str, seconds: float = 30) -> int:
    """Start turn `task_id`, due in `seconds`; its timeout event names a 30 s limit."""
    return await store.begin_turn(
        session_id, task_id, MessageStart(task_id=task_id), seconds, turn_timeout(task_id, 30, kept=False)
    )


async def test_turns_own_their_events_and_renew_the_session(redis, queues) -> None:
    store = SessionStore(redis, queues, ttl_s=600, log_ttl_s=60, log_maxlen=100)
    await store.create("s1", tenant_id="t", tier="free", agent_id="a", conversation_id="c", user_id=None)
    session_key = queues.session_keys("s1")[0]
    await redis.expire(session_key, 5)  # nearly expired

    assert await store.append("s1", Pong()) == 1
    assert await begin(store, "s1", "task-1") == 2
    assert await redis.ttl(session_key) > 500  # a new turn renews the session
    assert await begin(store, "s1", "task-2") == 0  # busy
    assert await store.task_event("s1", "task-2", Token(task_id="task-2", delta="x"), terminal=False) == 0
    assert await store.task_event("s1", "task-1", Token(task_id="task-1", delta="hi"), terminal=False) == 3
    end = MessageEnd(task_id="task-1", content="hi")
    assert await store.task_event("s1", "task-1", end, terminal=True) == 4
    assert await store.task_event("s1", "task-1", ChatError(code="late", message="x"), terminal=True) == 0
    session = await store.get("s1")
    assert session is not None and session.active_task is None

    replay = await logged(store, "s1", after_seq=2)
    assert [(e["seq"], e["type"]) for e in replay] == [(3, "token"), (4, "message_end")]
    assert await begin(store, "gone", "t") == -1
    assert await store.append("gone", Pong()) == 0


async def test_replayed_and_rerun_turn_events_are_logged_once_and_the_text_stays_true(redis, queues) -> None:
    """Callbacks handled twice (a consumer restarted mid-batch) append once; a turn re-run from the start
    (its execution worker died) tells the client to discard the partial answer, so the streamed text after
    the last `turn_restart` equals `message_end.content`."""
    store = SessionStore(redis, queues, ttl_s=600, log_ttl_s=60, log_maxlen=100)
    await store.create("s2", tenant_id="t", tier="free", agent_id="a", conversation_id="c", user_id=None)
    await begin(store, "s2", "task")

    async def event(attempt: int, n: int, event, terminal: bool = False) -> int:
        return await store.task_event("s2", "task", event, terminal=terminal, attempt=attempt, n=n)

    assert await event(1, 1, Token(task_id="task", delta="Once upon ")) > 0
    assert await event(1, 1, Token(task_id="task", delta="Once upon ")) == 0  # replayed
    assert await event(1, 2, Token(task_id="task", delta="a ti")) > 0
    assert await event(2, 1, Token(task_id="task", delta="Once upon ")) > 0  # the re-run begins
    assert await event(1, 3, Token(task_id="task", delta="me")) == 0  # a straggler of the dead run
    assert await event(2, 2, Token(task_id="task", delta="a time.")) > 0
    assert await event(2, 2, Token(task_id="task", delta="a time.")) == 0
    assert await event(2, 3, MessageEnd(task_id="task", content="Once upon a time."), terminal=True) > 0

    events = await logged(store, "s2", after_seq=0)
    assert [e["seq"] for e in events] == list(range(1, len(events) + 1))  # no gaps
    restart = max(i for i, e in enumerate(events) if e["type"] == "turn_restart")
    streamed = "".join(e["delta"] for e in events[restart:] if e["type"] == "token")
    assert streamed == events[-1]["content"] == "Once upon a time."


async def test_a_turn_past_its_time_ends_when_the_next_one_starts(redis, queues) -> None:
    """Nobody ended a turn past its deadline yet: the next turn ends it first, with its own timeout event."""
    store = SessionStore(redis, queues, ttl_s=600, log_ttl_s=60, log_maxlen=100)
    await store.create("s3", tenant_id="t", tier="free", agent_id="a", conversation_id="c", user_id=None)
    await begin(store, "s3", "old", 0.001)
    session = await eventually(lambda: _expired(store, "s3"), what="the turn's time to pass")
    assert session.active_task == "old" and not session.turn_running()
    assert await begin(store, "s3", "new") > 0  # not refused
    events = await logged(store, "s3", after_seq=0)
    assert [(e["type"], e.get("task_id"), e.get("code")) for e in events[-2:]] == [
        ("error", "old", "turn_timeout"),
        ("message_start", "new", None),
    ]
    assert events[-2]["message"] == turn_timeout("old", 30, kept=False).message
    assert await store.expire_turn("s3", "new", int(time.time() * 1000)) == 0  # still within its time: untouched


async def test_the_deadline_sweeper_ends_each_overdue_turn_once_and_cancels_it(redis, queues, settings) -> None:
    """Two replicas sweep at once: the turn nobody answered ends once, with the message it began with; its
    execution is cancelled; a turn that ended in time is not touched; the deadline index empties."""
    store = SessionStore(redis, queues, ttl_s=600, log_ttl_s=60, log_maxlen=100)
    for session_id in ("s4", "s5"):
        await store.create(session_id, tenant_id="t", tier="free", agent_id="a", conversation_id="c", user_id=None)
    await begin(store, "s4", "lost", 0.05)
    await begin(store, "s5", "done", 0.05)
    assert await store.task_event("s5", "done", MessageEnd(task_id="done", content="ok"), terminal=True) > 0
    execution = ExecutionClient(redis, settings, "orchestrator")
    sweepers = [DeadlineSweeper(store, execution, asyncio.Event()) for _ in range(2)]
    await eventually(lambda: _overdue(store), what="the turn's deadline to pass")
    assert sum(await asyncio.gather(*(sweeper.sweep() for sweeper in sweepers))) == 1
    lost = await logged(store, "s4", after_seq=0)
    assert [(e["type"], e.get("code")) for e in lost] == [("message_start", None), ("error", "turn_timeout")]
    assert lost[-1]["message"] == "The answer took longer than the 30 s limit."
    assert [e["type"] for e in await logged(store, "s5", after_seq=0)] == ["message_start", "message_end"]
    assert await redis.zcard(store.deadlines) == 0
    cancels = await redis.xrange(queues.action_stream("execution", "free"))
    assert [json.loads(fields[ACTION_FIELD])["data"] for _, fields in cancels] == [{"task_id": "lost"}]


async def _overdue(store: SessionStore) -> bool:
    return bool(await store.overdue_turns(int(time.time() * 1000)))


async def _expired(store: SessionStore, session_id: str):
    session = await store.get(session_id)
    return session if session and not session.turn_running() else None


def test_the_seq_goes_first_in_the_event_as_sent() -> None:
    assert json.loads(with_seq(7, '{"type":"pong"}')) == {"seq": 7, "type": "pong"}
    assert json.loads(with_seq(8, "{}")) == {"seq": 8}
    assert with_seq(9, '{"type":"token","delta":"}"}').startswith('{"seq":9,"type"')


async def logged(store: SessionStore, session_id: str, after_seq: int) -> list[dict[str, Any]]:
    """The log's events as a client gets them."""
    return [json.loads(event.json) for event in await store.read_events(session_id, after_seq)]
