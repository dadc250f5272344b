"""The execution service's kept history hands the messages still in its window to the next turn already in the
model's form: each message is converted once per replica, and what leaves the window is let go."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest
from langchain_core.messages import AIMessage, HumanMessage
from redis.asyncio import Redis
from redis.exceptions import ConnectionError as RedisConnectionError

from agent_execution_service.clients.conversation_client import TurnHistory
from agent_execution_service.services.chat_turn import _to_langchain
from agent_execution_service.services.kept import Kept
from common.contracts.conversation import SavedMessages
from common.contracts.management import AgentConfig
from common.launcher.ports import free_port
from common.models.conversations import Role, TurnMessage
from common.stamps import TurnStamps, history_stamp_key


def _row(message_id: str, role: str, content: str) -> dict[str, Any]:
    return {"message_id": message_id, "role": role, "content": content, "tokens": 1}


async def test_each_history_message_is_converted_once_and_only_the_window_is_kept(redis, queues) -> None:
    rows = (_row("1", "user", "hi"), _row("2", "assistant", "hello"), _row("3", "tool", "42"), _row("4", "user", "q"))
    read = TurnHistory(rows, (3, 100), "stamp-1")

    first = _to_langchain(read, skip_id="5")
    assert [(type(m), m.content) for m in first] == [(HumanMessage, "hi"), (AIMessage, "hello"), (HumanMessage, "q")]
    assert [id(m) for m in _to_langchain(read, skip_id="5")] == [id(m) for m in first]  # built once
    assert [m.content for m in _to_langchain(read, skip_id="4")] == ["hi", "hello"]  # the turn's own question

    kept = Kept(redis, queues)
    turn = [
        TurnMessage(message_id="5", role=Role.USER, content="next"),
        TurnMessage(message_id="6", role=Role.ASSISTANT, content="answer"),
    ]
    kept.history_saved("t", "c", read, turn, SavedMessages(stored=2, replaced_stamp="stamp-1", stamp="stamp-2"))
    await redis.set(history_stamp_key(queues, "t", "c"), "stamp-2")  # as the conversation service's save left it
    _, after = await kept.current("t", "free", "agent", "c")

    assert after is not None and [m["message_id"] for m in after.messages] == ["4", "5", "6"]  # the window: 3
    assert list(after.converted) == ["4"]  # "1" and "2" left the window and are not held any more
    second = _to_langchain(after, skip_id="7")
    assert [m.content for m in second] == ["q", "next", "answer"]
    assert second[0] is first[2]  # carried over, not built again


async def test_stamps_that_came_with_the_turn_are_checked_without_asking_redis(queues) -> None:
    now = datetime.now(UTC)
    agent = AgentConfig(
        id="agent",
        tenant_id="t",
        name="a",
        system_prompt="p",
        created_at=now,
        updated_at=now,
        timeout_s=30,
        max_history_messages=20,
        stamp="agent-1",
    )
    history = TurnHistory((_row("1", "user", "hi"),), (20, 1000), "history-1")
    unreachable = Redis(port=free_port(), socket_connect_timeout=1)  # nothing listens there: any command fails
    kept = Kept(unreachable, queues)
    kept.agent_read("t", "free", agent)
    kept._histories[("t", "c")] = history  # as a turn's save leaves it

    assert await kept.current("t", "free", "agent", "c", TurnStamps(agent="agent-1", history="history-1")) == (
        agent,
        history,
    )
    assert await kept.current("t", "free", "agent", "c", TurnStamps(agent="agent-2", history="history-1")) == (
        None,
        history,
    )
    assert await kept.current("t", "free", "agent", "c", TurnStamps(agent="agent-1", history=None)) == (agent, None)
    with pytest.raises(RedisConnectionError):  # without them, it reads them: here, from a Redis that is not there
        await kept.current("t", "free", "agent", "c")
    await unreachable.aclose()
