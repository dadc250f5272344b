"""The execution service's clients keep agent configs and history windows between turns: used while the turn's
stamps say they are current, without a round trip; each kept history message is converted to the model's form
once per replica, and what leaves the window is let go."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest
from langchain_core.messages import AIMessage, HumanMessage
from redis.asyncio import Redis
from redis.exceptions import ConnectionError as RedisConnectionError

from agent_execution_service.clients.conversation_client import (
    ConversationClient,
    TurnHistory,
    _extended,
    window_after,
)
from agent_execution_service.clients.management_client import ManagementClient
from agent_execution_service.services.chat_turn import _to_langchain
from common.contracts.conversation import SavedMessages
from common.contracts.management import AgentConfig
from common.launcher.ports import free_port
from common.models.actions import DomainAction
from common.models.conversations import Role, TurnMessage


def _row(message_id: str, role: str, content: str) -> dict[str, Any]:
    return {"message_id": message_id, "role": role, "content": content, "tokens": 1}


async def test_each_history_message_is_converted_once_and_only_the_window_is_kept() -> None:
    rows = (_row("1", "user", "hi"), _row("2", "assistant", "hello"), _row("3", "tool", "42"), _row("4", "user", "q"))
    read = TurnHistory(rows, (3, 100), "stamp-1")

    first = _to_langchain(read, skip_id="5")
    assert [(type(m), m.content) for m in first] == [(HumanMessage, "hi"), (AIMessage, "hello"), (HumanMessage, "q")]
    assert [id(m) for m in _to_langchain(read, skip_id="5")] == [id(m) for m in first]  # built once
    assert [m.content for m in _to_langchain(read, skip_id="4")] == ["hi", "hello"]  # the turn's own question

    turn = [
        TurnMessage(message_id="5", role=Role.USER, content="next"),
        TurnMessage(message_id="6", role=Role.ASSISTANT, content="answer"),
    ]
    after = _extended(read, turn, SavedMessages(stored=2, replaced_stamp="stamp-1", stamp="stamp-2"))

    assert after is not None and [m["message_id"] for m in after.messages] == ["4", "5", "6"]  # the window: 3
    assert list(after.converted) == ["4"]  # "1" and "2" left the window and are not held any more
    second = _to_langchain(after, skip_id="7")
    assert [m.content for m in second] == ["q", "next", "answer"]
    assert second[0] is first[2]  # carried over, not built again


def test_what_leaves_a_window_cut_by_tokens_is_named_too() -> None:
    """The window holds 10 messages but 4 tokens: a long answer pushes out more than its own count."""
    read = TurnHistory((_row("1", "user", "a"), _row("2", "assistant", "b"), _row("3", "user", "c")), (10, 4), None)
    answer = TurnMessage(message_id="4", role=Role.ASSISTANT, content="one two three")
    window, left = window_after(read, [answer])
    assert [m["message_id"] for m in window] == ["3", "4"] and left == ["1", "2"]


async def test_kept_copies_are_used_while_the_turns_stamps_match_without_asking_redis(settings) -> None:
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
    management = ManagementClient(unreachable, settings, "execution")
    conversations = ConversationClient(unreachable, settings, "execution")
    turn = DomainAction(action_type="execution.chat.run", tenant_id="t", origin_service="orchestrator")
    management._kept[("t", "free", "agent")] = agent  # as an earlier turn left them
    conversations._kept[("t", "c")] = history

    assert await management.agent_config(turn, "agent", "agent-1") is agent
    assert await conversations.history(turn, "c", (20, 1000), "history-1") is history
    assert management.kept(turn, "agent", "agent-2") is None and management.last_known(turn, "agent") is agent
    for stale in (
        management.agent_config(turn, "agent", "agent-2"),  # changed since
        management.agent_config(turn, "agent", None),  # a turn without stamps asks
        conversations.history(turn, "c", (20, 1000), None),
        conversations.history(turn, "c", (10, 1000), "history-1"),  # cut to other limits
    ):
        with pytest.raises(RedisConnectionError):  # asked: here, through a Redis that is not there
            await stale
    await unreachable.aclose()
