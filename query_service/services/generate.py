"""Grounded answers: the top chunks as numbered sources, an answer that cites them as [n], and the citations
mapped back to their chunks. Nothing relevant found → an explicit "I don't know" without calling a model."""

from __future__ import annotations

import re

from langchain_core.messages import HumanMessage, SystemMessage
from sqlalchemy.ext.asyncio import AsyncEngine

from common.clients.base_redis_client import BaseRedisClient
from common.errors import ValidationError
from common.llm.factory import build_chat_model, llm_error
from common.llm.settings import ModelSpec
from common.models.actions import DomainAction
from common.policy import check_model_allowed
from query_service.models.search import Citation, GenerateRequest, GenerateResult, SearchHit, SearchMode, SearchRequest
from query_service.services.context import with_sections
from query_service.services.search import search
from query_service.settings import QuerySettings

NOT_FOUND_ANSWER = "I don't know: nothing in the selected collections answers this question."
INSTRUCTIONS = (
    "Answer the question using only the numbered sources. Cite every source you use as [n]. "
    "If the sources do not contain the answer, say that you don't know."
)
CITATION = re.compile(r"\[(\d+)\]")


def relevant(hits: list[SearchHit], min_similarity: float) -> list[SearchHit]:
    return [
        hit
        for hit in hits
        if (hit.vector_score is not None and hit.vector_score >= min_similarity) or (hit.text_score or 0) > 0
    ]


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
    engine: AsyncEngine, embedding: BaseRedisClient, parent: DomainAction, req: GenerateRequest, settings: QuerySettings
) -> GenerateResult:
    check_model_allowed(parent.tenant_tier, answer_model(req, settings).provider)
    search_req = SearchRequest(
        query=req.query,
        collection_ids=req.collection_ids,
        document_ids=req.document_ids,
        top_k=req.top_k,
        mode=SearchMode.HYBRID,
    )
    hits = relevant(
        await search(engine, embedding, parent, search_req, settings),
        settings.min_vector_similarity,
    )
    if not hits:
        return GenerateResult(query=req.query, answer=NOT_FOUND_ANSWER, citations=[], sources=[], found=False)
    hits = await with_sections(engine, parent.tenant_id, hits, settings.context_max_tokens)
    sources = "\n".join(  # one line per source: the section the chunk was found in
        f"[{n}] {hit.document_title}: {' '.join((hit.context or hit.content).split())}"
        for n, hit in enumerate(hits, start=1)
    )
    model = build_chat_model(answer_model(req, settings), settings)
    try:
        reply = await model.ainvoke(
            [SystemMessage(INSTRUCTIONS), HumanMessage(f"Question: {req.query}\n\nSources:\n{sources}")]
        )
    except Exception as exc:
        raise (llm_error(exc) or exc) from exc
    answer = reply.text.strip()
    numbers = dict.fromkeys(int(n) for n in CITATION.findall(answer) if 1 <= int(n) <= len(hits))
    citations = [
        Citation(
            number=n,
            chunk_id=hits[n - 1].chunk_id,
            document_id=hits[n - 1].document_id,
            document_title=hits[n - 1].document_title,
            source=hits[n - 1].source,
            page=hits[n - 1].page,
            position=hits[n - 1].position,
        )
        for n in numbers
    ]
    return GenerateResult(query=req.query, answer=answer, citations=citations, sources=hits, found=True)
