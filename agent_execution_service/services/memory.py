"""An agent's memory of a conversation longer than its window: the running summary and the recalled earlier
messages in the model's prompt, and the summary's update (`execution.memory.summarize`, sent by a turn as it
ends and handled by any execution worker, off every turn's path), by the agent's `memory.summary_model` or else
its own model."""

from __future__ import annotations

import re
import time

from langchain_core.messages import HumanMessage, SystemMessage

from agent_execution_service.deps import ExecutionDeps
from common.contracts.conversation import MessageOut
from common.contracts.execution import SummarizeRequest
from common.contracts.management import UsageKind, UsageRecord
from common.llm.factory import build_chat_model, llm_error
from common.llm.token_count import token_counter
from common.log import get_logger
from common.models.actions import DomainAction, utc_now

log = get_logger(__name__)
SUMMARY_INSTRUCTIONS = (
    "You keep the running summary of a conversation between a user and an assistant. Rewrite the summary so it "
    "also covers the new messages. Keep every fact the user stated (names, numbers, codes, dates, preferences, "
    "decisions) exactly as written; drop greetings and small talk. Answer with the summary only."
)
MAX_SUMMARY_CHARS = 4_000
MAX_RECALLED_CHARS = 1_000
LOCK_S = 120
FACT = re.compile(r"\d|\b[A-Z][a-z]")  # a figure, or a capitalised word past the line's first letter


def memory_prompt(summary: str | None, recalled: list[MessageOut]) -> str:
    """The system prompt's memory section: the summary of the older messages and the ones recalled."""
    parts = []
    if summary:
        parts.append(f"Summary of the earlier conversation:\n{summary}")
    if recalled:
        lines = "\n".join(f"- {m.role.value}: {m.content[:MAX_RECALLED_CHARS]}" for m in recalled)
        parts.append(f"Earlier messages of this conversation that may be relevant:\n{lines}")
    return "".join(f"\n\n{part}" for part in parts)


def extractive_summary(previous: str | None, messages: list[MessageOut]) -> str:
    """The summary without a model: the previous one's lines, then each new user message as said (once), within
    MAX_SUMMARY_CHARS; over it, lines that state no figure or name go first, oldest first (recall still finds
    every message)."""
    lines = [line for line in (previous or "").splitlines() if line.strip()]
    for message in messages:
        if (
            message.role.value == "user"
            and (said := f"- The user said: {' '.join(message.content.split())[:300]}") not in lines
        ):
            lines.append(said)
    plain = [i for i, line in enumerate(lines) if not FACT.search(line.removeprefix("- The user said: ")[1:])]
    while sum(len(line) + 1 for line in lines) > MAX_SUMMARY_CHARS and lines:
        drop = plain.pop(0) if plain else 0
        lines.pop(drop)
        plain = [i - 1 if i > drop else i for i in plain]
    return "\n".join(lines)


async def summarize(action: DomainAction, req: SummarizeRequest, deps: ExecutionDeps) -> None:
    """Folds the messages older than the window that the summary does not cover into it (one summarizer per
    conversation at a time; a turn that finds one running leaves it to the next turn)."""
    if not action.agent_id:
        return
    lock = deps.queues.state_key("execution", "summarizing", action.tenant_id, req.conversation_id)
    if not await deps.redis.set(lock, action.action_id, nx=True, ex=LOCK_S):
        return
    try:
        agent = await deps.management.agent_config(action, action.agent_id)
        pending = await deps.conversation.unsummarized(action, req.conversation_id, agent.max_history_messages)
        if len(pending.messages) < 2:
            return
        model = (agent.memory.summary_model or agent.model).model_copy(update={"temperature": 0})
        if model.provider == "local" and not deps.settings.local_llm_writes_answers:
            # the bundled small model rewrites facts when it summarises (measured: it changed a locker code's
            # sentence and echoed the prompt): what the user said is kept as said instead
            summary = extractive_summary(pending.summary, pending.messages)
            await deps.conversation.save_summary(action, req.conversation_id, summary, pending.messages[-1].created_at)
            return
        new = "\n".join(f"{m.role.value}: {m.content[:MAX_RECALLED_CHARS]}" for m in pending.messages)
        prompt = [
            SystemMessage(SUMMARY_INSTRUCTIONS),
            HumanMessage(f"Summary so far:\n{pending.summary or '(none)'}\n\nNew messages:\n{new}"),
        ]
        started = time.perf_counter()
        try:
            reply = await build_chat_model(model, deps.settings).ainvoke(prompt)
        except Exception as exc:
            error = llm_error(exc)
            log.warning("summary_failed", conversation_id=req.conversation_id, error=str(error or exc))
            return
        summary = reply.text.strip()[:MAX_SUMMARY_CHARS]
        if summary:
            await deps.conversation.save_summary(action, req.conversation_id, summary, pending.messages[-1].created_at)
        await _record(action, deps, model.provider, model.name, prompt, reply, time.perf_counter() - started)
    finally:
        await deps.redis.delete(lock)


async def _record(
    action: DomainAction, deps: ExecutionDeps, provider: str, name: str, prompt: list, reply: object, elapsed_s: float
) -> None:
    meta = getattr(reply, "usage_metadata", None) or {}
    text = getattr(reply, "text", "")
    if meta:
        prompt_tokens, completion_tokens = meta.get("input_tokens", 0), meta.get("output_tokens", 0)
    else:
        spec = deps.management.last_known(action, action.agent_id or "")
        count = token_counter(spec.model, deps.settings) if spec else None
        counted = await count([text, "\n".join(str(m.content) for m in prompt)]) if count else [0, 0]
        completion_tokens, prompt_tokens = counted[0], counted[1]
    record = UsageRecord(
        event_id=f"summary:{action.action_id}",
        kind=UsageKind.SUMMARY,
        occurred_at=utc_now(),
        provider=str(provider),
        model=name,
        prompt_tokens=prompt_tokens,
        completion_tokens=completion_tokens,
        latency_ms=round(elapsed_s * 1000, 2),
        agent_id=action.agent_id,
        end_user_id=action.user_id,
    )
    await deps.usage.record(record, parent=action)
