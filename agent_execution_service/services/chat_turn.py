"""One chat turn: agent config, history, retrieval before generation (an agent with collections: the sources, then
a grounded answer or an abstention, by `common.grounding`), a LangChain tool-calling agent or the model alone,
streamed events, saved messages.

A turn always ends with exactly one terminal event, sent as the last of its numbered events:
`message_end` (also when cancelled) or `error` with a clear code. It never raises, so a failed
turn is answered, not retried; a turn redelivered after a crash saves nothing twice (message ids
derive from the task id).
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Coroutine, Iterator
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from langchain.agents import create_agent
from langchain_core.messages import AIMessage, AIMessageChunk, BaseMessage, HumanMessage, SystemMessage, ToolMessage
from langgraph.errors import GraphRecursionError

from agent_execution_service.clients.conversation_client import TurnHistory, window_after
from agent_execution_service.deps import ExecutionDeps
from agent_execution_service.services.memory import memory_prompt
from agent_execution_service.services.tools import build_tools
from agent_execution_service.services.turn_events import TurnEvents
from common import metrics, tracing
from common.budgets import period_start, resets_at
from common.contracts import execution
from common.contracts.conversation import MessageOut
from common.contracts.execution import ChatRunRequest, SummarizeRequest
from common.contracts.management import AgentConfig, BudgetLimit, UsageKind, UsageRecord, WebhookEventType
from common.errors import ForbiddenError, NoobleError, ValidationError, as_nooble_error
from common.grounding import (
    GROUNDING_INSTRUCTIONS,
    SupportedPhrasing,
    answer_style,
    is_small_talk,
    phrasing_model,
    phrasing_prompt,
    quotes,
    relevant_sources,
    render_quotes,
    source_item,
    sources_prompt,
    standalone_query,
    without_unknown_citations,
)
from common.llm.factory import build_chat_model, llm_error
from common.llm.settings import ModelSpec
from common.llm.token_count import TokenCounter, cl100k, token_counter
from common.log import get_logger
from common.models.actions import DomainAction, utc_now
from common.models.chat import ChatError, MessageEnd, Sources, ToolCall, ToolResult, Usage, turn_timeout
from common.models.conversations import Role, TurnMessage
from common.models.knowledge import AnswerStyle, KnowledgeMode, SearchHit

log = get_logger(__name__)
_REPLAYED: dict[str, type[BaseMessage]] = {"user": HumanMessage, "assistant": AIMessage}
MAX_AGENT_STEPS = 12  # model and tool steps in one turn
TOOL_SUMMARY_CHARS = 300


@dataclass
class TurnState:
    streamed: list[str] = field(default_factory=list)
    content: str = ""
    usage: Usage = field(default_factory=Usage)
    tool_calls: list[dict[str, Any]] = field(default_factory=list)
    sources: list[dict[str, Any]] = field(default_factory=list)
    sources_sent: int = 0  # how many of `sources` a `sources` event has carried
    count: TokenCounter = cl100k  # the answering model's token counter, for usage its server does not report
    timings_ms: dict[str, float] = field(default_factory=dict)
    agent: AgentConfig | None = None  # once its budgets hold the turn's reservation
    history: TurnHistory | None = None
    recalled: list[MessageOut] = field(default_factory=list)  # earlier messages recalled for the question
    saved: list[TurnMessage] = field(default_factory=list)  # the turn's messages, once stored
    model: ModelSpec | None = None  # the model that answers (None: no model call, e.g. an abstention)
    model_calls: int = 0

    def context(self, history: TurnHistory) -> dict[str, Any]:
        """What the model was given besides the question, for inspecting the turn later."""
        return {
            "window": history.message_ids,
            "summary": history.summary,
            "recalled": [m.message_id for m in self.recalled],
        }

    @contextlib.contextmanager
    def timed(self, step: str) -> Iterator[None]:
        started = time.perf_counter()
        try:
            yield
        finally:
            self.timings_ms[step] = round((time.perf_counter() - started) * 1000, 2)


async def run_turn(action: DomainAction, req: ChatRunRequest, deps: ExecutionDeps) -> None:
    settings = deps.settings
    task_id = action.task_id or action.action_id
    state = TurnState()
    events = TurnEvents(
        deps.events,
        action,
        flush_interval_s=settings.event_flush_interval_s,
        cancel_poll_interval_s=settings.cancel_poll_interval_s,
    )
    async with events:
        try:
            outcome = await _run(action, req, deps, events, state)
        except Exception as exc:
            error = llm_error(exc) or as_nooble_error(exc)
            if error.error_type.value == "internal_error":
                log.error("turn_failed", task_id=task_id, exc_info=exc)
            outcome = ChatError(task_id=task_id, code=error.code, message=error.message)
        if isinstance(outcome, MessageEnd) and len(state.sources) > state.sources_sent:  # the knowledge tool's
            await events.emit(Sources(task_id=task_id, items=state.sources))
        if state.agent is not None:  # recorded before the turn ends: a worker dying after it loses nothing
            await _account(action, req, deps, state, outcome)
        await events.emit(outcome)  # the terminal event, numbered like every other
    await _after_turn(action, req, deps, state)
    log.info("turn_finished", task_id=task_id, outcome=outcome.type, usage=state.usage.total_tokens, **state.timings_ms)
    metrics.LLM_TOKENS.labels(action.tenant_id, "prompt").inc(state.usage.prompt_tokens)
    metrics.LLM_TOKENS.labels(action.tenant_id, "completion").inc(state.usage.completion_tokens)


async def _run(
    action: DomainAction, req: ChatRunRequest, deps: ExecutionDeps, events: TurnEvents, state: TurnState
) -> MessageEnd | ChatError:
    task_id = events.task_id
    if not action.agent_id:
        raise ValidationError("execution.chat.run needs an agent_id", code="missing_agent_id")
    with state.timed("config_and_history_ms"):
        agent, history = await _config_and_history(action, req, deps)
    if (refusal := await _hold_budget(action, req, agent, deps)) is not None:
        return refusal
    state.agent = agent
    state.history = history
    question = TurnMessage(message_id=f"{task_id}:user", role=Role.USER, content=req.message, created_at=utc_now())
    recalling = asyncio.create_task(_recall(action, req, agent, history, deps, state))
    try:
        with state.timed("retrieval_ms"):
            sources = await _retrieve(action, req, agent, history, question.message_id, deps, events, state)
        await recalling  # beside retrieval: the earlier messages most like the question
        outcome = await _answer(action, req, agent, history, question.message_id, sources, deps, events, state)
    except Exception:
        recalling.cancel()
        await _save_question_anyway(action, req, deps, history, question)
        raise
    turn = [question]
    # an answer cut short by the time limit is kept as far as it streamed, marked incomplete
    incomplete = isinstance(outcome, ChatError) and outcome.code == "turn_timeout"
    answer = outcome.content if isinstance(outcome, MessageEnd) else "".join(state.streamed) if incomplete else ""
    if answer:
        turn.append(
            TurnMessage(
                message_id=f"{task_id}:assistant",
                role=Role.ASSISTANT,
                content=answer,
                created_at=utc_now(),
                usage=state.usage,
                sources=state.sources,
                tool_calls=state.tool_calls,
                incomplete=incomplete,
                context=state.context(history),
            )
        )
    # both stored before message_end, so the next turn's history has them: one round trip after the answer,
    # none while the model is starting; the question is stored also when the turn ends in an error
    with state.timed("save_ms"):
        await _save(action, req, deps, history, turn)
    state.saved = turn
    return outcome


async def _recall(
    action: DomainAction,
    req: ChatRunRequest,
    agent: AgentConfig,
    history: TurnHistory,
    deps: ExecutionDeps,
    state: TurnState,
) -> None:
    """The earlier messages most like the question, when the conversation is longer than the window (a failed
    recall leaves the turn without them: it is logged, the turn goes on)."""
    memory = agent.memory
    if not memory.recalls or history.older == 0:
        return
    try:
        with state.timed("recall_ms"):
            state.recalled = await deps.conversation.recall(
                action, req.conversation_id, req.message, memory.recall_k, history.message_ids
            )
    except NoobleError as exc:
        log.warning("recall_failed", code=exc.code, error=exc.message)


async def _after_turn(action: DomainAction, req: ChatRunRequest, deps: ExecutionDeps, state: TurnState) -> None:
    """After the turn's last event: the messages it pushed out of the window embedded for recall, and the
    running summary updated when enough older messages are not in it yet; both by other workers, never on a
    turn's path."""
    agent, history = state.agent, state.history
    if agent is None or history is None or not state.saved:
        return
    _, left = window_after(history, state.saved)  # what this turn pushed out of the window (messages or tokens)
    try:
        if agent.memory.recalls and left:  # only what leaves the window is ever recalled: a short chat costs nothing
            await deps.conversation.index(action, req.conversation_id, left)
        if agent.memory.summarizes and history.unsummarized + len(left) >= agent.memory.summary_after:
            await deps.conversation.send(
                execution.SUMMARIZE, SummarizeRequest(conversation_id=req.conversation_id), parent=action
            )
    except NoobleError as exc:
        log.warning("memory_not_updated", code=exc.code, error=exc.message)


async def _save(
    action: DomainAction, req: ChatRunRequest, deps: ExecutionDeps, history: TurnHistory, turn: list[TurnMessage]
) -> None:
    """Store the turn's messages (the client keeps the history they extend for the conversation's next turn)."""
    await deps.conversation.save_messages(action, req.conversation_id, history, turn)


async def _save_question_anyway(
    action: DomainAction, req: ChatRunRequest, deps: ExecutionDeps, history: TurnHistory, question: TurnMessage
) -> None:
    """The model failed: the user's question is still kept (the turn's error is what the caller learns)."""
    try:
        await _save(action, req, deps, history, [question])
    except Exception as exc:
        log.warning("question_not_saved", task_id=question.message_id, error=str(exc))


async def _config_and_history(
    action: DomainAction, req: ChatRunRequest, deps: ExecutionDeps
) -> tuple[AgentConfig, TurnHistory]:
    """The agent's config (current every turn: edits and deactivation apply at once) and the conversation's
    history, each from its client (which keeps a copy while the stamp the turn came with says it is current).
    The history depends on the agent's limits: when the config must be asked for, the history is looked up at
    the same time with the limits this agent had last time (they rarely change), and again only if they did."""
    assert action.agent_id
    # a re-run (the turn redelivered after a failure) does not trust its first start's stamps: it asks
    stamps = req.stamps if int(action.metadata.get("delivery_count", 1)) == 1 else None
    agent_stamp, history_stamp = (stamps.agent, stamps.history) if stamps else (None, None)
    agent = deps.management.kept(action, action.agent_id, agent_stamp)
    if agent is not None:
        _check_active(agent)
        return agent, await deps.conversation.history(action, req.conversation_id, _limits(agent), history_stamp)
    last = deps.management.last_known(action, action.agent_id)
    guess = _limits(last) if last else None
    guessed = (
        asyncio.create_task(deps.conversation.history(action, req.conversation_id, guess, history_stamp))
        if guess
        else None
    )
    try:
        agent = await deps.management.agent_config(action, action.agent_id, agent_stamp)
        _check_active(agent)
        if guessed and guess == _limits(agent):
            return agent, await guessed
    finally:  # a guess not used (failure, inactive agent, changed limits) is dropped; no Redis read is cut
        if guessed and not guessed.done():
            guessed.cancel()
            await asyncio.gather(guessed, return_exceptions=True)
    return agent, await deps.conversation.history(action, req.conversation_id, _limits(agent), history_stamp)


async def _hold_budget(
    action: DomainAction, req: ChatRunRequest, agent: AgentConfig, deps: ExecutionDeps
) -> ChatError | None:
    """Holds the turn's reservation (its model's `max_tokens`) in the tenant's and the agent's token budgets, or
    refuses the turn naming the budget and when it resets (common.budgets)."""
    task_id = action.task_id or action.action_id
    time_left_s = (action.deadline - utc_now()).total_seconds() if action.deadline else agent.timeout_s
    hold_s = max(0.0, time_left_s) + deps.settings.budget_hold_grace_s
    refusal = await deps.budgets.reserve(
        action.tenant_id, agent.id, task_id, agent.model.max_tokens, agent.budgets, hold_s=hold_s
    )
    if refusal is None:
        return None
    metrics.BUDGET_REFUSALS.labels(refusal.budget.scope, refusal.budget.period).inc()
    await _budget_exceeded(action, deps, agent, refusal.budget, refused=True)
    return ChatError(
        task_id=task_id,
        code="quota_exceeded",
        message=refusal.message,
        retry_after=refusal.retry_after(utc_now()),
        budget=f"{refusal.budget.scope}_{refusal.budget.period}",
        resets_at=refusal.resets_at,
    )


async def _account(
    action: DomainAction, req: ChatRunRequest, deps: ExecutionDeps, state: TurnState, outcome: MessageEnd | ChatError
) -> None:
    """The turn's usage: settled in its budgets (its reservation replaced by what it used) and sent to the usage
    ledger. Never fails the turn: what cannot be recorded is logged."""
    assert state.agent is not None
    task_id = action.task_id or action.action_id
    model = state.model or state.agent.model
    record = UsageRecord(
        event_id=f"chat:{task_id}",
        kind=UsageKind.CHAT,
        occurred_at=utc_now(),
        provider=str(model.provider),
        model=model.name,
        prompt_tokens=state.usage.prompt_tokens,
        completion_tokens=state.usage.completion_tokens,
        calls=state.model_calls,
        latency_ms=state.timings_ms.get("generation_ms", 0.0),
        agent_id=state.agent.id,
        end_user_id=action.user_id,
        conversation_id=req.conversation_id,
        task_id=task_id,
        outcome="ok" if isinstance(outcome, MessageEnd) else outcome.code,
    )
    used = state.usage.prompt_tokens + state.usage.completion_tokens
    settled, sent = await asyncio.gather(
        deps.budgets.settle(action.tenant_id, state.agent.id, task_id, used),
        deps.usage.record(record, parent=action),
        return_exceptions=True,
    )
    for failure in (settled, sent):
        if isinstance(failure, BaseException):
            log.error("usage_not_recorded", task_id=task_id, tokens=used, error=str(failure))
    if isinstance(settled, dict):
        limits = {(b.scope, b.period): b.limit for b in state.agent.budgets}
        for budget, spent in settled.items():
            limit = limits.get(budget)
            if limit is not None and spent > limit and spent - used <= limit:  # this turn went past the limit
                log.warning("budget_overrun", task_id=task_id, budget=budget, spent=spent, limit=limit)
                metrics.BUDGET_OVERRUNS.labels(*budget).inc()
                scope, period = budget
                exceeded = BudgetLimit(scope=scope, period=period, limit=limit)
                await _budget_exceeded(action, deps, state.agent, exceeded, refused=False, spent=spent)


async def _budget_exceeded(
    action: DomainAction,
    deps: ExecutionDeps,
    agent: AgentConfig,
    budget: BudgetLimit,
    *,
    refused: bool,
    spent: int | None = None,
) -> None:
    """`budget.exceeded` for the tenant's webhooks: once per budget and period (the event id says which)."""
    now = utc_now()
    owner = "tenant" if budget.scope == "tenant" else f"agent:{agent.id}"
    period = period_start(budget.period, now).strftime("%Y%m%d")
    data = {
        "budget": f"{budget.scope}_{budget.period}",
        "agent_id": agent.id,
        "limit": budget.limit,
        "spent": spent,
        "turn_refused": refused,
        "resets_at": resets_at(budget.period, now).isoformat(),
    }
    try:
        event_id = f"budget.exceeded:{owner}:{budget.period}:{period}"
        await deps.webhooks.emit(WebhookEventType.BUDGET_EXCEEDED, event_id, data, parent=action)
    except Exception as exc:  # the tenant's webhooks never fail a turn
        log.warning("budget_event_not_sent", error=str(exc))


def _limits(agent: AgentConfig) -> tuple[int, int]:
    return agent.max_history_messages, agent.memory.max_tokens


def _check_active(agent: AgentConfig) -> None:
    if not agent.is_active:
        raise ForbiddenError(f"agent {agent.id} is not active", code="agent_inactive")


async def _retrieve(
    action: DomainAction,
    req: ChatRunRequest,
    agent: AgentConfig,
    history: TurnHistory,
    question_id: str,
    deps: ExecutionDeps,
    events: TurnEvents,
    state: TurnState,
) -> list[SearchHit] | None:
    """Retrieval before generation: the relevant passages for the turn's question (a follow-up searched together
    with the question it follows), numbered and sent to the client before the first token. None: this turn does
    not retrieve (no collections, `tool` or `off` mode, or small talk in `auto` mode)."""
    knowledge = agent.knowledge
    if not agent.collection_ids or knowledge.mode in (KnowledgeMode.TOOL, KnowledgeMode.OFF):
        return None
    if knowledge.mode == KnowledgeMode.AUTO and is_small_talk(req.message):
        return None
    earlier = [m["content"] for m in history.messages if m["role"] == "user" and m["message_id"] != question_id]
    query = standalone_query(req.message, earlier)
    with tracing.span("retrieval", collections=len(agent.collection_ids), top_k=knowledge.top_k):
        hits = await deps.query.search(action, query, agent.collection_ids, knowledge.top_k, with_evidence=True)
    sources = relevant_sources(hits, knowledge.min_relevance)
    if sources:
        state.sources += [source_item(hit) for hit in sources]
        await events.emit(Sources(task_id=events.task_id, items=state.sources))
        state.sources_sent = len(state.sources)
    return sources


async def _answer(
    action: DomainAction,
    req: ChatRunRequest,
    agent: AgentConfig,
    history: TurnHistory,
    question_id: str,
    sources: list[SearchHit] | None,
    deps: ExecutionDeps,
    events: TurnEvents,
    state: TurnState,
) -> MessageEnd | ChatError:
    """The turn's answer by the rules of `common.grounding`: abstain, quotes phrased by the model, or the model's
    own answer (grounded in the sources when there are some)."""
    knowledge = agent.knowledge
    if sources is not None and not sources and knowledge.abstain:
        state.streamed.append(knowledge.abstain_message)
        await events.token(knowledge.abstain_message)
        state.content = knowledge.abstain_message
        return MessageEnd(task_id=events.task_id, content=state.content, usage=state.usage)
    style = answer_style(knowledge.answer_style, agent.model.provider, deps.settings.local_llm_writes_answers)
    if sources and style == AnswerStyle.QUOTE:
        chosen = quotes(sources)
        lead = render_quotes(chosen)
        state.streamed.append(lead)
        await events.token(lead)
        system, user = phrasing_prompt(req.message, chosen)
        state.model = phrasing_model(agent.model)
        model = build_chat_model(state.model, deps.settings)
        state.count = token_counter(state.model, deps.settings)
        prompt = [SystemMessage(f"{agent.system_prompt}\n\n{system}"), HumanMessage(user)]
        streaming = _phrase_quotes(model, prompt, events, state, SupportedPhrasing(chosen, req.message))
    else:
        system = agent.system_prompt + memory_prompt(history.summary, state.recalled)
        if sources:
            system += f"\n\n{GROUNDING_INSTRUCTIONS}\n\n{sources_prompt(sources, knowledge.max_context_tokens)}"
        tool_searches = knowledge.mode == KnowledgeMode.TOOL or (
            knowledge.mode == KnowledgeMode.AUTO and style == AnswerStyle.MODEL
        )
        tools = build_tools(
            agent.tools,
            query_client=deps.query,
            action=action,
            knowledge_of=agent.collection_ids if tool_searches else [],
            found_sources=state.sources,
            agent=agent,
            settings=deps.settings,
        )
        messages = [*_to_langchain(history, skip_id=question_id), HumanMessage(req.message)]
        state.model = agent.model
        model = build_chat_model(agent.model, deps.settings)
        state.count = token_counter(agent.model, deps.settings)
        if tools:
            graph = create_agent(model, tools, system_prompt=system)
            streaming = _stream_agent(graph, [SystemMessage(system), *messages], events, state)
        else:  # no tools, no loop: the model alone (a tenth of the agent graph's overhead per turn)
            streaming = _stream_model(model, [SystemMessage(system), *messages], events, state)
    outcome = await _generate(action, agent, streaming, events, state)
    if isinstance(outcome, MessageEnd) and state.sources:
        outcome.content = without_unknown_citations(outcome.content, len(state.sources))
    return outcome


async def _generate(
    action: DomainAction,
    agent: AgentConfig,
    streaming: Coroutine[Any, Any, None],
    events: TurnEvents,
    state: TurnState,
) -> MessageEnd | ChatError:
    """`streaming` run to its end: finished, cancelled (partial answer) or past the turn's time limit."""
    task_id = events.task_id
    # the turn's deadline is the orchestrator's (the tier's timeout from the turn's start); without one (a direct
    # caller), the agent's tier timeout from now
    limit_s = float(agent.timeout_s)
    deadline = action.deadline or utc_now() + timedelta(seconds=limit_s)
    if action.deadline is not None:
        limit_s = (action.deadline - action.timestamp).total_seconds()
    model = state.model or agent.model
    runner = asyncio.create_task(_traced_model_call(streaming, model))
    cancelled = asyncio.create_task(events.cancelled.wait())
    try:
        with state.timed("generation_ms"):
            remaining_s = max(0.0, (deadline - utc_now()).total_seconds())
            done, _ = await asyncio.wait({runner, cancelled}, timeout=remaining_s, return_when="FIRST_COMPLETED")
    finally:
        cancelled.cancel()
        if not runner.done():
            runner.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await runner
    if runner in done:
        runner.result()  # re-raises the agent's failure
        return MessageEnd(task_id=task_id, content=state.content, usage=state.usage, sources=state.sources)
    if cancelled in done:
        return MessageEnd(
            task_id=task_id, content="".join(state.streamed), usage=state.usage, sources=state.sources, cancelled=True
        )
    if state.streamed and not state.usage.completion_tokens:  # what was generated still counts
        state.usage += await _usage(state.count, None, "".join(state.streamed))
    return turn_timeout(task_id, limit_s, kept=bool(state.streamed))


async def _traced_model_call(streaming: Coroutine[Any, Any, None], model: ModelSpec) -> None:
    with tracing.span("llm.chat", provider=str(model.provider), model=model.name, max_tokens=model.max_tokens):
        await streaming


def _to_langchain(history: TurnHistory, skip_id: str) -> list[BaseMessage]:
    """User and assistant turns of the history, oldest first (tool and system rows are not replayed); each built
    once and kept with the history (`TurnHistory.converted`)."""
    replayed = []
    for message in history.messages:
        message_id = message["message_id"]
        if message["role"] not in _REPLAYED or message_id == skip_id:
            continue
        converted = history.converted.get(message_id)
        if converted is None:
            converted = history.converted[message_id] = _REPLAYED[message["role"]](message["content"])
        replayed.append(converted)
    return replayed


async def _stream_model(
    model: Any,
    messages: list[BaseMessage],
    events: TurnEvents,
    state: TurnState,
    phrasing: SupportedPhrasing | None = None,
) -> None:
    """One model call, streamed; with `phrasing`, only the sentences it keeps are streamed (after the quotes)."""
    reported: list[Usage] = []
    generated: list[str] = []
    state.model_calls += 1
    async for chunk in model.astream(messages):
        if chunk.usage_metadata:  # providers report usage on one chunk (usually the last)
            reported.append(await _usage(state.count, chunk.usage_metadata, ""))
        if not chunk.text:
            continue
        generated.append(chunk.text)
        shown = phrasing.feed(chunk.text) if phrasing else chunk.text
        if shown:
            state.streamed.append(shown)
            await events.token(shown)
        if phrasing and phrasing.done:
            break  # the phrasing has said enough: the model is not waited for
    if phrasing and (rest := phrasing.finish()):
        state.streamed.append(rest)
        await events.token(rest)
    state.content = "".join(state.streamed)  # one model call: the answer is what streamed
    state.usage += sum(reported, Usage()) if reported else await _usage(state.count, None, "".join(generated), messages)


async def _phrase_quotes(
    model: Any, prompt: list[BaseMessage], events: TurnEvents, state: TurnState, phrasing: SupportedPhrasing
) -> None:
    """The model's phrasing after the quotes; a model that fails leaves the quotes as the answer (they are it)."""
    try:
        await _stream_model(model, prompt, events, state, phrasing)
    except Exception as exc:
        error = llm_error(exc)
        if error is None:
            raise
        log.warning("phrasing_failed", task_id=events.task_id, code=error.code, error=error.message)
        state.content = "".join(state.streamed)


async def _stream_agent(graph: Any, prompt: list[BaseMessage], events: TurnEvents, state: TurnState) -> None:
    """The tool-calling agent's steps, streamed. `prompt` is the system message (the graph adds it itself) and
    the conversation: each model call's prompt is counted from it when the provider reports no usage."""
    task_id = events.task_id
    seen = list(prompt)  # what the model has been given so far: the prompt, its own calls, the tools' results
    try:
        async for mode, chunk in graph.astream(
            {"messages": prompt[1:]},
            {"recursion_limit": MAX_AGENT_STEPS},
            stream_mode=["messages", "updates"],
        ):
            if mode == "messages":
                message, meta = chunk
                if isinstance(message, AIMessageChunk) and meta.get("langgraph_node") == "model" and message.text:
                    state.streamed.append(message.text)
                    await events.token(message.text)
                continue
            for update in chunk.values():
                for message in (update or {}).get("messages", []):
                    if isinstance(message, AIMessage):
                        state.model_calls += 1
                        state.usage += await _usage(state.count, message.usage_metadata, message.text, seen)
                        for call in message.tool_calls:
                            state.tool_calls.append({"name": call["name"], "args": call["args"]})
                            await events.emit(ToolCall(task_id=task_id, name=call["name"], args=call["args"]))
                        if not message.tool_calls:
                            state.content = message.text
                        seen.append(message)
                    elif isinstance(message, ToolMessage):
                        seen.append(message)
                        summary = str(message.content)[:TOOL_SUMMARY_CHARS]
                        await events.emit(ToolResult(task_id=task_id, name=message.name or "tool", summary=summary))
    except GraphRecursionError:
        raise NoobleError(f"the agent did not finish within {MAX_AGENT_STEPS} steps", code="too_many_steps") from None


async def _usage(count: TokenCounter, meta: Any, text: str, prompt: list[BaseMessage] | None = None) -> Usage:
    """Usage as the provider reported it, else counted with the model's tokenizer (`count`): the completion, and
    the prompt when known (llama-cpp-python's server reports no usage when it streams)."""
    if meta:
        return Usage(
            prompt_tokens=meta.get("input_tokens", 0),
            completion_tokens=meta.get("output_tokens", 0),
            total_tokens=meta.get("total_tokens", 0),
        )
    counted = await count([text, "\n".join(str(message.content) for message in prompt)] if prompt else [text])
    completion, prompt_tokens = counted[0], sum(counted[1:])
    return Usage(prompt_tokens=prompt_tokens, completion_tokens=completion, total_tokens=prompt_tokens + completion)
