"""The orchestrator's session store on real Redis: numbering, turn ownership, TTL renewal, replay."""

from __future__ import annotations

from agent_orchestrator_service.services.session_store import SessionStore
from common.models.chat import ChatError, MessageEnd, MessageStart, Pong, Token


async def test_turns_own_their_events_and_renew_the_session(redis, queues) -> None:
    store = SessionStore(redis, queues, ttl_s=600, log_ttl_s=60, log_maxlen=100)
    await store.create("s1", tenant_id="t", tier="free", agent_id="a", conversation_id="c", user_id=None)
    session_key = queues.state_key("orchestrator", "session", "s1")
    await redis.expire(session_key, 5)  # nearly expired

    assert await store.append("s1", Pong()) == 1
    assert await store.begin_turn("s1", "task-1", MessageStart(task_id="task-1"), max_seconds=30) == 2
    assert await redis.ttl(session_key) > 500  # a new turn renews the session
    assert await store.begin_turn("s1", "task-2", MessageStart(task_id="task-2"), max_seconds=30) == 0  # busy
    assert await store.task_event("s1", "task-2", Token(task_id="task-2", delta="x"), terminal=False) == 0
    assert await store.task_event("s1", "task-1", Token(task_id="task-1", delta="hi"), terminal=False) == 3
    end = MessageEnd(task_id="task-1", content="hi")
    assert await store.task_event("s1", "task-1", end, terminal=True) == 4
    assert await store.task_event("s1", "task-1", ChatError(code="late", message="x"), terminal=True) == 0
    assert (await store.get("s1")).active_task is None

    replay = await store.read_events("s1", after_seq=2)
    assert [(e["seq"], e["type"]) for e in replay] == [(3, "token"), (4, "message_end")]
    assert await store.begin_turn("gone", "t", MessageStart(task_id="t"), max_seconds=30) == -1
    assert await store.append("gone", Pong()) == 0
