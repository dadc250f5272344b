"""`query.generate`: a grounded answer to one question, by the same retrieval and answer rules as a chat turn
(`common.grounding`): retrieval with evidence first; nothing relevant → the abstain answer without calling a
model; else quotes phrased by the bundled model, or the capable model's own cited answer."""

from __future__ import annotations

import time

from langchain_core.messages import BaseMessage, HumanMessage, SystemMessage
from sqlalchemy.ext.asyncio import AsyncEngine

from common.clients.base_redis_client import BaseRedisClient
from common.clients.usage_client import UsageClient
from common.contracts.management import UsageKind, UsageRecord
from common.contracts.query import Citation, GenerateRequest, GenerateResult, SearchMode, SearchRequest
from common.errors import NoobleError, ValidationError
from common.grounding import (
    GROUNDING_INSTRUCTIONS,
    SupportedPhrasing,
    answer_style,
    cited,
    phrasing_model,
    phrasing_prompt,
    quotes,
    relevant_sources,
    render_quotes,
    sources_prompt,
    without_unknown_citations,
)
from common.llm.factory import build_chat_model, llm_error
from common.llm.settings import ModelSpec
from common.llm.token_count import token_counter
from common.log import get_logger
from common.models.actions import DomainAction, utc_now
from common.models.chat import Usage
from common.models.knowledge import DEFAULT_ABSTAIN_MESSAGE, AnswerStyle
from common.policy import check_model_allowed
from query_service.services.search import search
from query_service.settings import QuerySettings

log = get_logger(__name__)


def answer_model(req: GenerateRequest, settings: QuerySettings) -> ModelSpec:
    if req.model:
        provider, _, name = req.model.partition(":")
        if not name:
            raise ValidationError("model must be 'provider:name', e.g. 'openai:gpt-4o-mini'", code="invalid_model")
        return ModelSpec(provider=provider, name=name, temperature=0, max_tokens=settings.answer_max_tokens)
    return ModelSpec(
        provider=settings.answer_model_provider,
        name=settings.answer_model_name,
        temperature=0,
        max_tokens=settings.answer_max_tokens,
    )


async def generate(
    engine: AsyncEngine,
    embedding: BaseRedisClient,
    usage: UsageClient,
    parent: DomainAction,
    req: GenerateRequest,
    settings: QuerySettings,
) -> GenerateResult:
    spec = answer_model(req, settings)
    calls: list[tuple[ModelSpec, Usage, float]] = []
    try:
        return await _generate(engine, embedding, parent, req, settings, spec, calls)
    finally:
        if calls:  # what the model was asked is recorded also when the answer then failed
            await usage.record(_usage_record(parent, calls), parent=parent)


def _usage_record(parent: DomainAction, calls: list[tuple[ModelSpec, Usage, float]]) -> UsageRecord:
    spec = calls[0][0]
    total = sum((u for _, u, _ in calls), Usage())
    return UsageRecord(
        event_id=f"generate:{parent.action_id}",
        kind=UsageKind.GENERATE,
        occurred_at=utc_now(),
        provider=spec.provider,
        model=spec.name,
        prompt_tokens=total.prompt_tokens,
        completion_tokens=total.completion_tokens,
        calls=len(calls),
        latency_ms=round(sum(ms for _, _, ms in calls), 2),
        agent_id=parent.agent_id,
        end_user_id=parent.user_id,
    )


async def _generate(
    engine: AsyncEngine,
    embedding: BaseRedisClient,
    parent: DomainAction,
    req: GenerateRequest,
    settings: QuerySettings,
    spec: ModelSpec,
    calls: list[tuple[ModelSpec, Usage, float]],
) -> GenerateResult:
    check_model_allowed(parent.tenant_tier, spec.provider)
    search_req = SearchRequest(
        query=req.query,
        collection_ids=req.collection_ids,
        document_ids=req.document_ids,
        top_k=req.top_k,
        mode=SearchMode.HYBRID,
        with_evidence=True,
    )
    sources = relevant_sources(await search(engine, embedding, parent, search_req, settings), req.min_relevance)
    if not sources:
        return GenerateResult(query=req.query, answer=DEFAULT_ABSTAIN_MESSAGE, citations=[], sources=[], found=False)
    if answer_style(req.answer_style, spec.provider, settings.local_llm_writes_answers) == AnswerStyle.QUOTE:
        chosen = quotes(sources)
        system, user = phrasing_prompt(req.query, chosen)
        try:
            phrased = await _invoke(phrasing_model(spec), [SystemMessage(system), HumanMessage(user)], settings, calls)
        except NoobleError as exc:  # the quotes are the answer; the model only phrased around them
            log.warning("phrasing_failed", code=exc.code, error=exc.message)
            phrased = ""
        supported = SupportedPhrasing(chosen, req.query)
        answer = render_quotes(chosen) + supported.feed(phrased) + supported.finish()
    else:
        system = f"{GROUNDING_INSTRUCTIONS}\n\n{sources_prompt(sources, settings.answer_context_max_tokens)}"
        answer = await _invoke(spec, [SystemMessage(system), HumanMessage(req.query)], settings, calls)
    answer = without_unknown_citations(answer, len(sources))
    citations = [
        Citation(
            number=n,
            chunk_id=sources[n - 1].chunk_id,
            document_id=sources[n - 1].document_id,
            document_title=sources[n - 1].document_title,
            source=sources[n - 1].source,
            page=sources[n - 1].page,
            position=sources[n - 1].position,
        )
        for n in cited(answer, len(sources))
    ]
    return GenerateResult(query=req.query, answer=answer, citations=citations, sources=sources, found=True)


async def _invoke(
    spec: ModelSpec, messages: list[BaseMessage], settings: QuerySettings, calls: list[tuple[ModelSpec, Usage, float]]
) -> str:
    """The model's reply; its usage (as reported, else counted with the model's tokenizer) goes to `calls`."""
    started = time.perf_counter()
    try:
        reply = await build_chat_model(spec, settings).ainvoke(messages)
    except Exception as exc:
        calls.append((spec, Usage(), (time.perf_counter() - started) * 1000))
        raise (llm_error(exc) or exc) from exc
    elapsed_ms = (time.perf_counter() - started) * 1000
    meta = reply.usage_metadata
    if meta:
        used = Usage(prompt_tokens=meta["input_tokens"], completion_tokens=meta["output_tokens"])
    else:
        completion, prompt = await token_counter(spec, settings)([reply.text, "\n".join(m.text for m in messages)])
        used = Usage(prompt_tokens=prompt, completion_tokens=completion)
    calls.append(
        (spec, used.model_copy(update={"total_tokens": used.prompt_tokens + used.completion_tokens}), elapsed_ms)
    )
    return reply.text.strip()
