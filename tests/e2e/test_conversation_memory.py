"""Memory for long conversations on the real platform: 60 turns with an agent whose window holds 6 messages; a
fact stated at turn 2 is in what the model is given at turn 60 — recalled by embedding search over the
conversation (recall), or carried by the running summary made off the turns' path (summary). The context of
each answer is stored with it, and read here through the conversation API."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from tests.support.helpers import eventually
from tests.support.platform import ChatPlatform, auth, chat

FACT = "My locker code is 4917 and my name is Ottilie."
FILLER = "Tell me something nice about the weather today."


async def sixty_turns(platform: ChatPlatform, key: str, agent: str, before_last: Any = None) -> dict[str, Any]:
    """Turn 1 hello, turn 2 the fact, 57 fillers, then (after `before_last`) the question; the conversation."""
    session = await platform.new_session(key, agent)
    async with chat(session, key) as client:
        await client.until("session_ready")
        for content in ["Hello!", FACT, *[FILLER] * 57]:
            assert (await client.turn(content))[-1]["type"] == "message_end"
        if before_last is not None:
            await before_last(session["conversation_id"])
        last = await client.turn("What is my locker code?")
    assert last[-1]["type"] == "message_end"
    return await conversation(platform, key, session["conversation_id"])


async def conversation(platform: ChatPlatform, key: str, conversation_id: str) -> dict[str, Any]:
    async with httpx.AsyncClient(timeout=15) as http:
        response = await http.get(
            f"{platform.url('conversation_service')}/api/v1/conversations/{conversation_id}", headers=auth(key)
        )
    assert response.status_code == 200, response.text
    return response.json()


@pytest.mark.parametrize("mode", ["recall", "summary"])
async def test_a_fact_from_turn_2_reaches_the_model_at_turn_60(chat_platform: ChatPlatform, mode: str) -> None:
    key = await chat_platform.new_tenant()
    memory = {"max_messages": 6, "mode": mode, "summary_after": 4}
    agent = await chat_platform.new_agent(key, name=f"Memory {mode}", memory=memory)

    async def summary_covers_the_fact(conversation_id: str) -> None:
        """The summary is made by another worker, off the turns' path: wait until it has caught up."""

        async def covered() -> bool:  # a summary reached the model already, several turns ago
            history = await conversation(chat_platform, key, conversation_id)
            return any(m["context"] and m["context"]["summary"] for m in history["messages"])

        await eventually(covered, timeout=30, what="a summary in the context")

    found = await sixty_turns(chat_platform, key, agent, summary_covers_the_fact if mode == "summary" else None)
    messages = found["messages"]
    assert len(messages) == 120
    fact_id = next(m["message_id"] for m in messages if m["content"] == FACT)
    context = messages[-1]["context"]  # what the model was given for the 60th answer
    assert fact_id not in context["window"] and len(context["window"]) == 6  # the fact left the window long ago
    if mode == "recall":
        assert fact_id in context["recalled"] and context["summary"] is None
    else:
        assert "4917" in context["summary"] and "Ottilie" in context["summary"] and context["recalled"] == []


async def test_an_agent_without_memory_forgets_what_left_its_window(chat_platform: ChatPlatform) -> None:
    key = await chat_platform.new_tenant()
    agent = await chat_platform.new_agent(key, name="Goldfish", memory={"max_messages": 6, "mode": "off"})
    found = await sixty_turns(chat_platform, key, agent)
    context = found["messages"][-1]["context"]
    assert context["recalled"] == [] and context["summary"] is None
