"""Grounded answers end to end: retrieval before generation, quotes and citations, abstention, the knowledge modes,
follow-up questions, and `query.generate` by the same rules. The `local` provider is the scripted model (it never
calls the knowledge tool unless bound to it, as the bundled model never does); `openai` is the stand-in server."""

from __future__ import annotations

from typing import Any

import httpx

from common.models.knowledge import DEFAULT_ABSTAIN_MESSAGE, DEFAULT_MIN_RELEVANCE
from tests.support.helpers import eventually
from tests.support.platform import ChatPlatform, Knowledge, auth, chat

HOURS = b"The support desk is open from 9 to 17 on weekdays. Calls are answered in English and Spanish."
PETS = b"Cats are small domesticated felines that purr and chase mice."


async def knowledge_agent(platform: ChatPlatform, key: str, **fields: Any) -> tuple[str, str]:
    """A collection holding the two documents, and an agent over it; (agent id, collection id)."""
    async with Knowledge(platform, key) as kb:
        collection = await kb.collection()
        await kb.ingested(collection, "hours.txt", HOURS)
        await kb.ingested(collection, "pets.txt", PETS)
    return await platform.new_agent(key, collection_ids=[collection], **fields), collection


async def ask(platform: ChatPlatform, key: str, agent: str, *questions: str) -> tuple[dict[str, Any], list[list]]:
    session = await platform.new_session(key, agent)
    turns = []
    async with chat(session, key) as client:
        await client.until("session_ready")
        for question in questions:
            turns.append(await client.turn(question))
    return session, turns


def types(events: list[dict[str, Any]]) -> list[str]:
    return [event["type"] for event in events]


async def saved_messages(platform: ChatPlatform, key: str, conversation_id: str, count: int) -> list[dict[str, Any]]:
    url = f"{platform.url('conversation_service')}/api/v1/conversations/{conversation_id}"
    async with httpx.AsyncClient(timeout=10, headers=auth(key)) as http:

        async def saved() -> list[dict[str, Any]] | None:
            response = await http.get(url)
            messages = response.json()["messages"] if response.status_code == 200 else []
            return messages if len(messages) >= count else None

        return await eventually(saved, what=f"{count} saved messages")


async def test_a_knowledge_agent_retrieves_first_and_leads_with_the_quoted_source(chat_platform: ChatPlatform) -> None:
    key = await chat_platform.new_tenant()
    agent, _ = await knowledge_agent(chat_platform, key)
    session, [events] = await ask(chat_platform, key, agent, "When is the support desk open?")
    kinds = types(events)
    assert "tool_call" not in kinds  # the documents were not left to the model's choice
    assert kinds.index("sources") < kinds.index("token")  # numbered sources before the first token
    sources = next(e for e in events if e["type"] == "sources")["items"]
    assert sources[0]["source"] == "hours.txt" and all(s["source"] != "pets.txt" for s in sources)
    end = events[-1]
    assert end["type"] == "message_end"
    assert end["content"].startswith("> The support desk is open from 9 to 17 on weekdays. [1]\n\n")
    assert end["sources"] == sources
    user, assistant = await saved_messages(chat_platform, key, session["conversation_id"], 2)
    assert user["content"] == "When is the support desk open?"
    assert assistant["content"] == end["content"] and assistant["sources"][0]["source"] == "hours.txt"


async def test_nothing_relevant_means_the_agent_says_so_instead_of_guessing(chat_platform: ChatPlatform) -> None:
    key = await chat_platform.new_tenant()
    agent, collection = await knowledge_agent(chat_platform, key)
    session, [events] = await ask(chat_platform, key, agent, "What is the capital of Peru?")
    assert "sources" not in types(events)
    assert events[-1]["content"] == DEFAULT_ABSTAIN_MESSAGE and events[-1]["sources"] == []
    _, assistant = await saved_messages(chat_platform, key, session["conversation_id"], 2)
    assert assistant["content"] == DEFAULT_ABSTAIN_MESSAGE
    # the wording is the agent's own
    own = "Sorry, our help pages do not cover that. Ask a human at help@example.com."
    custom = await chat_platform.new_agent(key, collection_ids=[collection], knowledge={"abstain_message": own})
    _, [events] = await ask(chat_platform, key, custom, "What is the capital of Peru?")
    assert events[-1]["content"] == own


async def test_a_capable_model_writes_the_answer_from_the_numbered_sources(chat_platform: ChatPlatform) -> None:
    key = await chat_platform.new_tenant()
    agent, _ = await knowledge_agent(chat_platform, key, model={"provider": "openai", "name": "gpt-test"})
    _, [events] = await ask(chat_platform, key, agent, "When is the support desk open?")
    kinds = types(events)
    assert kinds.index("sources") < kinds.index("token")
    content = events[-1]["content"]
    # the stand-in answers from source 1 of its prompt and cites [1] and a [99] that names no source
    assert content.startswith("The support desk is open from 9 to 17 on weekdays [1]")
    assert "[99]" not in content and not content.startswith(">")


async def test_a_model_that_fails_leaves_the_quotes_as_the_answer(chat_platform: ChatPlatform) -> None:
    key = await chat_platform.new_tenant()
    failing = {"model": {"provider": "openai", "name": "fail-500"}, "knowledge": {"answer_style": "quote"}}
    agent, collection = await knowledge_agent(chat_platform, key, **failing)
    _, [events] = await ask(chat_platform, key, agent, "When is the support desk open?")
    assert events[-1]["type"] == "message_end"
    assert events[-1]["content"] == "> The support desk is open from 9 to 17 on weekdays. [1]\n\n"
    async with Knowledge(chat_platform, key) as kb:
        body = {"model": "openai:fail-500", "answer_style": "quote"}
        answer = await kb.generate("When is the support desk open?", [collection], **body)
    assert answer.status_code == 200 and answer.json()["answer"].startswith("> The support desk is open")


async def test_tool_mode_leaves_the_search_to_the_model_and_off_ignores_the_documents(
    chat_platform: ChatPlatform,
) -> None:
    key = await chat_platform.new_tenant()
    agent, collection = await knowledge_agent(chat_platform, key, knowledge={"mode": "tool"})
    _, [events] = await ask(chat_platform, key, agent, "When is the support desk open?")
    by_type = {e["type"]: e for e in events}
    assert by_type["tool_call"]["name"] == "knowledge" and "9 to 17" in by_type["tool_result"]["summary"]
    assert by_type["sources"]["items"][0]["source"] == "hours.txt"
    off = await chat_platform.new_agent(key, collection_ids=[collection], knowledge={"mode": "off"})
    _, [events] = await ask(chat_platform, key, off, "When is the support desk open?")
    assert set(types(events)) == {"message_start", "token", "message_end"}  # no search, no sources
    assert events[-1]["content"] == "You said: When is the support desk open?." and events[-1]["sources"] == []


async def test_small_talk_is_answered_by_the_model_and_always_mode_retrieves_anyway(
    chat_platform: ChatPlatform,
) -> None:
    key = await chat_platform.new_tenant()
    agent, collection = await knowledge_agent(chat_platform, key)
    _, [events] = await ask(chat_platform, key, agent, "Hello!")
    assert events[-1]["content"] == "You said: Hello!."
    always = await chat_platform.new_agent(key, collection_ids=[collection], knowledge={"mode": "always"})
    _, [events] = await ask(chat_platform, key, always, "Hello!")
    assert events[-1]["content"] == DEFAULT_ABSTAIN_MESSAGE


async def test_a_follow_up_is_searched_together_with_the_question_it_follows(chat_platform: ChatPlatform) -> None:
    key = await chat_platform.new_tenant()
    agent, _ = await knowledge_agent(chat_platform, key)
    _, [first, follow_up] = await ask(chat_platform, key, agent, "When is the support desk open?", "and on Saturdays?")
    assert first[-1]["sources"][0]["source"] == "hours.txt"
    # alone, "and on Saturdays?" matches nothing; with the question it follows it finds the opening hours
    assert follow_up[-1]["sources"][0]["source"] == "hours.txt", follow_up[-1]


async def test_agent_knowledge_settings_are_validated_and_default_to_auto(chat_platform: ChatPlatform) -> None:
    key = await chat_platform.new_tenant()
    agents = f"{chat_platform.url('agent_management_service')}/api/v1/agents"
    async with httpx.AsyncClient(timeout=10, headers=auth(key)) as http:
        created = (await http.post(agents, json={"name": "a", "system_prompt": "b"})).json()
        assert created["knowledge"]["mode"] == "auto" and created["knowledge"]["abstain"] is True
        for bad in ({"mode": "sometimes"}, {"top_k": 0}, {"min_relevance": 2}, {"abstain_message": ""}, {"x": 1}):
            response = await http.patch(f"{agents}/{created['id']}", json={"knowledge": bad})
            assert response.status_code == 422, (bad, response.text)
        patched = await http.patch(f"{agents}/{created['id']}", json={"knowledge": {"mode": "tool", "top_k": 8}})
        assert patched.status_code == 200 and patched.json()["knowledge"]["top_k"] == 8


async def test_generate_quotes_its_source_or_abstains(chat_platform: ChatPlatform) -> None:
    key = await chat_platform.new_tenant()
    async with Knowledge(chat_platform, key) as kb:
        collection = await kb.collection()
        await kb.ingested(collection, "hours.txt", HOURS)
        await kb.ingested(collection, "pets.txt", PETS)
        answer = (await kb.generate("When is the support desk open?", [collection])).json()
        assert answer["found"] is True
        assert answer["answer"].startswith("> The support desk is open from 9 to 17 on weekdays. [1]")
        assert (
            answer["citations"][0]["source"] == "hours.txt"
            and answer["sources"][0]["relevance"] >= DEFAULT_MIN_RELEVANCE
        )
        capable = (await kb.generate("When is the support desk open?", [collection], model="openai:gpt-test")).json()
        assert capable["answer"].startswith("The support desk is open from 9 to 17 on weekdays [1]")
        assert "[99]" not in capable["answer"] and [c["number"] for c in capable["citations"]] == [1]
        unknown = (await kb.generate("What is the capital of Peru?", [collection])).json()
        assert unknown == {**unknown, "found": False, "answer": DEFAULT_ABSTAIN_MESSAGE, "citations": [], "sources": []}


HOSTILE_QUESTIONS = [
    "\x00\x00 when \x00 open?",
    "?" * 4_000,
    "\U0001f642" * 1_000,
    "' OR 1=1; -- DROP TABLE chunks",
    "open " * 800,
    "サポートデスクは何時に開きますか",
    "<script>alert(1)</script> [1] [999999999999999999999]",
]


async def test_hostile_questions_get_an_answer_or_an_abstention_never_an_error(chat_platform: ChatPlatform) -> None:
    """An answer, an abstention, or a typed 4xx (a NUL byte cannot be stored): never a server error or a hang."""
    key = await chat_platform.new_tenant()
    agent, collection = await knowledge_agent(chat_platform, key)
    async with Knowledge(chat_platform, key) as kb:
        for question in HOSTILE_QUESTIONS:
            search = await kb.search(question, [collection], with_evidence=True)
            answer = await kb.generate(question, [collection])
            for response in (search, answer):
                assert response.status_code in (200, 422), (question[:40], response.text[:300])
                if response.status_code == 422:
                    assert "\x00" in question and response.json()["error"]["error_code"] == "invalid_request"
            if search.status_code == 200:
                assert all(0 <= hit["relevance"] <= 1 for hit in search.json()["results"])
                assert isinstance(answer.json()["found"], bool)
    _, turns = await ask(chat_platform, key, agent, *HOSTILE_QUESTIONS)
    for question, turn in zip(HOSTILE_QUESTIONS, turns, strict=True):
        end = turn[-1]
        assert end["type"] == "message_end" or ("\x00" in question and end["code"] != "internal_error"), end
