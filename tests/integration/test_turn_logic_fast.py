"""A chat turn's logic in milliseconds: `run_turn` with the management, conversation and query services' handlers
served in this process (tests.support.in_process) and the events on real Redis. What a turn answers, cites,
refuses, and how it ends, without starting a service."""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from typing import Any, cast

from agent_execution_service.clients.conversation_client import ConversationClient
from agent_execution_service.clients.management_client import ManagementClient
from agent_execution_service.clients.query_client import QueryClient
from agent_execution_service.deps import ExecutionDeps
from agent_execution_service.services.chat_turn import run_turn
from agent_execution_service.services.memory import extractive_summary, summarize
from agent_execution_service.settings import ExecutionSettings
from common.budgets import Budgets
from common.clients.usage_client import UsageClient
from common.clients.webhook_client import WebhookClient
from common.contracts import conversation, management, query
from common.contracts.conversation import (
    History,
    HistoryRequest,
    MessageOut,
    SavedMessages,
    SaveMessagesRequest,
    SaveSummaryRequest,
    Unsummarized,
    UnsummarizedRequest,
)
from common.contracts.execution import ChatRunRequest, SummarizeRequest
from common.contracts.management import AgentConfig, BudgetLimit, GetConfigRequest, UsageRecord, WebhookEvent
from common.contracts.orchestrator import ChatEventCallback
from common.contracts.query import SearchRequest, SearchResult
from common.handlers import CallbackSenderHandler
from common.models.actions import DomainAction, utc_now
from common.models.conversations import Role
from common.models.knowledge import DEFAULT_ABSTAIN_MESSAGE, Evidence, SearchHit
from common.workers.router import ActionRouter
from tests.support.in_process import InProcess, serve_in_process
from tests.support.openai_standin import API_KEY

FACT = "The support desk is open from 9:00 to 17:00 on weekdays."


def an_agent(**fields: Any) -> AgentConfig:
    now = utc_now()
    base: dict[str, Any] = {
        "id": "agent",
        "tenant_id": "t",
        "name": "Helpdesk",
        "system_prompt": "Answer from the documents.",
        "collection_ids": ["docs"],
        "created_at": now,
        "updated_at": now,
        "timeout_s": 30,
        "max_history_messages": 20,
    }
    return AgentConfig.model_validate(base | fields)


def a_hit(content: str, relevance: float) -> SearchHit:
    return SearchHit(
        chunk_id=1,
        document_id="d1",
        collection_id="docs",
        document_title="Opening hours",
        source="hours.txt",
        content=content,
        position=0,
        page=None,
        heading=None,
        score=relevance,
        context=content,
        evidence=[Evidence(text=content, score=relevance)],
        relevance=relevance,
    )


class Services:
    """The management, conversation and query handlers a turn calls, in this process."""

    def __init__(self, agent: AgentConfig, hits: list[SearchHit]):
        self.agent = agent
        self.saved: list[SaveMessagesRequest] = []
        self.searched: list[SearchRequest] = []
        self.usage: list[UsageRecord] = []
        self.events: list[WebhookEvent] = []
        self.summaries: list[SaveSummaryRequest] = []
        self.pending = Unsummarized(summary=None, messages=[])
        routes: ActionRouter[None] = ActionRouter()

        @routes.handle(management.RECORD_USAGE)
        async def record(action: DomainAction, req: UsageRecord, deps: None) -> None:
            self.usage.append(req)

        @routes.handle(conversation.GET_UNSUMMARIZED)
        async def unsummarized(action: DomainAction, req: UnsummarizedRequest, deps: None) -> Unsummarized:
            return self.pending

        @routes.handle(conversation.SAVE_SUMMARY)
        async def save_summary(action: DomainAction, req: SaveSummaryRequest, deps: None) -> SavedMessages:
            self.summaries.append(req)
            return SavedMessages(stored=1)

        @routes.handle(management.DISPATCH_WEBHOOK)
        async def dispatch(action: DomainAction, req: WebhookEvent, deps: None) -> None:
            self.events.append(req)

        @routes.handle(management.GET_AGENT_CONFIG)
        async def config(action: DomainAction, req: GetConfigRequest, deps: None) -> AgentConfig:
            return agent

        @routes.handle(conversation.GET_HISTORY)
        async def history(action: DomainAction, req: HistoryRequest, deps: None) -> History:
            return History(conversation_id=req.conversation_id, messages=[], total_tokens=0)

        @routes.handle(conversation.SAVE_MESSAGES)
        async def save(action: DomainAction, req: SaveMessagesRequest, deps: None) -> SavedMessages:
            self.saved.append(req)
            return SavedMessages(stored=len(req.messages))

        @routes.handle(query.SEARCH)
        async def search(action: DomainAction, req: SearchRequest, deps: None) -> SearchResult:
            self.searched.append(req)
            return SearchResult(query=req.query, mode=req.mode, results=hits)

        self.transport = InProcess([(routes, None)])


def execution_deps(redis: Any, queues: Any, services: Services, **settings_fields: Any) -> ExecutionDeps:
    settings = ExecutionSettings(local_chat_model="scripted", **settings_fields)
    deps = ExecutionDeps(
        settings=settings,
        redis=redis,
        queues=queues,
        engine=cast(Any, None),  # the turn itself touches no database: its services do
        sessions=cast(Any, None),
        management=ManagementClient(redis, settings, "execution"),
        conversation=ConversationClient(redis, settings, "execution"),
        query=QueryClient(redis, settings, "execution"),
        events=CallbackSenderHandler(redis, queues, "execution", settings.max_message_bytes),
        budgets=Budgets(redis, queues),
        usage=UsageClient(redis, settings, "execution"),
        webhooks=WebhookClient(redis, settings, "execution"),
    )
    for client in (deps.management, deps.conversation, deps.query, deps.usage, deps.webhooks):
        serve_in_process(client, services.transport)
    return deps


async def turn(
    redis: Any, queues: Any, services: Services, message: str, task_id: str = "task", **envelope: Any
) -> list[ChatEventCallback]:
    """Run one turn; the events it sent to its callback list, in order."""
    deps = execution_deps(redis, queues, services)
    callbacks = queues.callback_queue("orchestrator", "fast")
    action = DomainAction(
        action_type="execution.chat.run",
        tenant_id="t",
        agent_id=services.agent.id,
        task_id=task_id,
        session_id="s",
        origin_service="orchestrator",
        callback_queue_name=callbacks,
        callback_action_type="orchestrator.chat.event",
        **envelope,
    )
    await run_turn(action, ChatRunRequest(session_id="s", conversation_id="c", message=message), deps)
    raw = reversed(await redis.lrange(callbacks, 0, -1))  # LPUSHed: the oldest is last
    return [ChatEventCallback.model_validate(json.loads(entry)["data"]) for entry in raw]


def events_of(callbacks: list[ChatEventCallback]) -> list[dict[str, Any]]:
    return [c.event.model_dump() for c in callbacks if c.event is not None]


async def test_a_grounded_answer_quotes_and_cites_its_source_and_ends_numbered_like_every_event(redis, queues) -> None:
    services = Services(an_agent(), [a_hit(FACT, 0.8)])
    callbacks = await turn(redis, queues, services, "When is the support desk open?")
    assert [c.n for c in callbacks] == list(range(1, len(callbacks) + 1)) and {c.attempt for c in callbacks} == {1}
    events = events_of(callbacks)
    end = events[-1]
    assert end["type"] == "message_end" and all(e["type"] != "message_end" for e in events[:-1])
    assert "9:00 to 17:00" in end["content"] and "[1]" in end["content"]
    assert any(e["type"] == "sources" and e["items"][0]["source"] == "hours.txt" for e in events)
    assert services.searched[0].with_evidence and services.searched[0].collection_ids == ["docs"]
    [saved] = services.saved
    assert [m.role.value for m in saved.messages] == ["user", "assistant"]
    assert saved.messages[1].content == end["content"] and saved.messages[1].sources


async def test_nothing_relevant_retrieved_is_an_abstention_not_a_guess(redis, queues) -> None:
    services = Services(an_agent(), [a_hit("Our office dog is called Rex.", 0.1)])
    end = events_of(await turn(redis, queues, services, "What is the refund policy?"))[-1]
    assert end["type"] == "message_end" and end["content"] == DEFAULT_ABSTAIN_MESSAGE and "[1]" not in end["content"]


async def test_an_inactive_agent_ends_the_turn_with_a_numbered_error(redis, queues) -> None:
    services = Services(an_agent(is_active=False), [])
    callbacks = await turn(redis, queues, services, "Hello?")
    [only] = callbacks
    assert only.n == 1 and only.event is not None and only.event.model_dump()["code"] == "agent_inactive"


async def test_a_turn_past_its_deadline_keeps_what_streamed_and_says_so_in_the_one_timeout_message(
    redis, queues
) -> None:
    """The turn started 30 s ago by the orchestrator's clock: the limit it reports is the turn's, not what was
    left of it; what streamed is saved, marked incomplete."""
    started = utc_now() - timedelta(seconds=29.7)
    services = Services(an_agent(collection_ids=[]), [])
    callbacks = await turn(
        redis, queues, services, "think forever out loud", timestamp=started, deadline=started + timedelta(seconds=30)
    )
    end = events_of(callbacks)[-1]
    assert end["type"] == "error" and end["code"] == "turn_timeout"
    assert end["message"] == "The answer took longer than the 30 s limit. The answer so far is kept, marked incomplete."
    answer = services.saved[0].messages[1]
    assert answer.incomplete and answer.content


async def test_a_turn_sends_its_usage_to_the_ledger_once_before_it_ends(redis, queues) -> None:
    services = Services(an_agent(id="ledgered", collection_ids=[]), [])
    end = events_of(await turn(redis, queues, services, "Say hello.", task_id="ledgered-turn"))[-1]
    assert end["type"] == "message_end"
    [record] = services.usage
    assert record.event_id == "chat:ledgered-turn" and record.kind == "chat" and record.agent_id == "ledgered"
    assert (record.prompt_tokens, record.completion_tokens) == (
        end["usage"]["prompt_tokens"],
        end["usage"]["completion_tokens"],
    )
    assert record.prompt_tokens > 0 and record.completion_tokens > 0 and record.calls == 1


async def test_a_turn_over_its_agents_budget_is_refused_with_which_budget_and_when_it_resets(redis, queues) -> None:
    """The reservation is the model's max_tokens (512): a budget of 100 tokens cannot hold one turn."""
    budget = BudgetLimit(scope="agent", period="day", limit=100)
    services = Services(an_agent(id="frugal", collection_ids=[], budgets=[budget]), [])
    [only] = events_of(await turn(redis, queues, services, "Hello?", task_id="refused-turn"))
    assert only["code"] == "quota_exceeded" and only["budget"] == "agent_day"
    assert only["resets_at"] is not None and 0 < only["retry_after"] <= 24 * 3600
    assert "100 tokens" in only["message"]
    assert not services.saved and not services.usage  # a turn that never started records nothing
    [event] = services.events  # the tenant's webhooks hear of it, once per budget and period
    assert event.event_type == "budget.exceeded" and event.data["budget"] == "agent_day"
    assert event.event_id.startswith("budget.exceeded:agent:frugal:day:")


def user_messages(texts: list[str], start: datetime) -> list[MessageOut]:
    """The user's messages as the conversation service returns them, a second apart."""
    return [
        MessageOut(
            message_id=f"m{i}",
            role=Role.USER,
            content=text,
            tokens=5,
            sources=[],
            tool_calls=[],
            created_at=start + timedelta(seconds=i),
        )
        for i, text in enumerate(texts)
    ]


def summarize_action(agent_id: str) -> DomainAction:
    return DomainAction(
        action_type="execution.memory.summarize", tenant_id="t", agent_id=agent_id, origin_service="execution", data={}
    )


async def test_the_summary_is_written_by_the_configured_summary_model_and_recorded(
    redis, queues, openai_standin: str
) -> None:
    """The agent answers with the local model; its summaries come from the one its memory names."""
    summarizer = {"provider": "openai", "name": "gpt-summary", "max_tokens": 300}
    memory = {"mode": "summary", "summary_model": summarizer}
    services = Services(an_agent(id="summarized", collection_ids=[], memory=memory), [])
    now = utc_now()
    said = ["My locker code is 4917.", "I prefer email."]
    services.pending = Unsummarized(
        summary=None,
        messages=user_messages(said, now),
    )
    # a timeout of its own: langchain-openai shares one HTTP client per (base URL, timeout) in the process, and
    # another test's client belongs to that test's (closed) event loop
    deps = execution_deps(
        redis,
        queues,
        services,
        openai_api_key=API_KEY,
        openai_base_url=f"{openai_standin}/v1",
        llm_request_timeout_s=17.25,
    )
    action = summarize_action("summarized")
    await summarize(action, SummarizeRequest(conversation_id="c"), deps)
    [saved] = services.summaries
    assert saved.summary and saved.through == now + timedelta(seconds=1)
    [record] = services.usage
    assert (record.kind, record.provider, record.model) == ("summary", "openai", "gpt-summary")
    assert record.prompt_tokens > 0


async def test_the_bundled_model_summary_keeps_what_the_user_said_as_said(redis, queues) -> None:
    """The local model without `local_llm_writes_answers` does not rewrite facts: the summary keeps the user's
    words, and a long one lets go of small talk before anything with a figure or a name."""
    services = Services(an_agent(id="extractive", collection_ids=[], memory={"mode": "summary"}), [])
    now = utc_now()
    said = ["My locker code is 4917 and my name is Ottilie.", *["tell me about the weather " * 10] * 1, "Thanks!"]
    services.pending = Unsummarized(
        summary="- The user said: I fly to Lima on 3 May.",
        messages=user_messages(said, now),
    )
    action = summarize_action("extractive")
    await summarize(action, SummarizeRequest(conversation_id="c"), execution_deps(redis, queues, services))
    [saved] = services.summaries
    lines = saved.summary.splitlines()
    assert lines[0] == "- The user said: I fly to Lima on 3 May."
    assert "- The user said: My locker code is 4917 and my name is Ottilie." in lines
    assert not services.usage  # no model was called

    many = user_messages([f"small talk number {'x' * 250} {chr(97 + i % 26)}" for i in range(40)], now)
    kept = extractive_summary(saved.summary, many)
    assert len(kept) <= 4_000 and "4917" in kept and "Lima" in kept  # facts outlive small talk
