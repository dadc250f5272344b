"""The embedding service: local MiniLM vectors over REST and Redis, batching, cache, limits."""

from __future__ import annotations

import asyncio
import os
from collections.abc import AsyncIterator

import httpx
import numpy as np
import pytest
from tokenizers import Encoding

from agent_management_service.app import SPEC as MANAGEMENT
from common.clients.base_redis_client import BaseRedisClient
from common.contracts import embedding
from common.contracts.embedding import EmbedRequest
from common.errors import NoobleError
from common.models.tiers import Tier
from embedding_service.app import SPEC
from embedding_service.services.batcher import Batcher
from embedding_service.services.embedder import EmbeddingService
from embedding_service.services.providers import LocalMiniLM
from embedding_service.settings import EmbeddingSettings
from tests.support.helpers import jwt_headers, new_tenant
from tests.support.openai_standin import API_KEY
from tests.support.services import running


@pytest.fixture
async def service(migrated, redis) -> AsyncIterator[tuple[httpx.AsyncClient, EmbeddingSettings]]:
    """The embedding service, with the management service beside it to resolve callers."""
    embedding_settings = EmbeddingSettings(max_texts_per_call=8, max_chars_per_text=1_000)
    async with running(MANAGEMENT, migrated), running(SPEC, embedding_settings) as http:
        yield http, embedding_settings


def cosine(a: list[float], b: list[float]) -> float:
    return float(np.dot(a, b) / (np.linalg.norm(a) * np.linalg.norm(b)))


async def test_rest_is_openai_shaped_and_vectors_carry_meaning(service, migrated) -> None:
    http, settings = service
    tenant_id, _ = await new_tenant(migrated, "enterprise")
    auth = jwt_headers(settings.jwt_secret.get_secret_value(), tenant_id)
    body = {"input": ["The cat sits on the mat.", "A feline rests on a rug.", "Quarterly revenue grew 12%."]}
    response = await http.post("/api/v1/embeddings", json=body, headers=auth)
    assert response.status_code == 200, response.text
    doc = response.json()
    assert doc["object"] == "list" and doc["model"] == "all-MiniLM-L6-v2"
    assert [d["index"] for d in doc["data"]] == [0, 1, 2] and doc["usage"]["prompt_tokens"] > 0
    cat, feline, revenue = (d["embedding"] for d in doc["data"])
    assert len(cat) == 384 and abs(np.linalg.norm(cat) - 1) < 1e-3
    assert cosine(cat, feline) > 0.45 > 0.1 > cosine(cat, revenue)
    single = await http.post("/api/v1/embeddings", json={"input": "hello"}, headers=auth)
    assert len(single.json()["data"]) == 1
    assert (await http.post("/api/v1/embeddings", json={"input": "x"})).status_code == 401


async def test_pseudo_sync_action_caches_and_handles_empty_strings(service, redis) -> None:
    _, settings = service
    client = BaseRedisClient(redis, settings, "tester")
    texts = ["alpha beta", "", "   ", "alpha beta"]
    first = await client.call(embedding.GENERATE, EmbedRequest(texts=texts), tenant_id="t1")
    assert first.dimensions == 384 and len(first.embeddings) == 4
    assert first.embeddings[1] == [0.0] * 384 == first.embeddings[2]
    assert first.embeddings[0] == first.embeddings[3]
    again = await client.call(embedding.GENERATE, EmbedRequest(texts=["alpha beta"]), tenant_id="t1")
    assert again.cached == 1 and again.embeddings[0] == first.embeddings[0]


@pytest.mark.parametrize(
    ("texts", "model", "tier", "code"),
    [
        (["a"] * 9, None, Tier.FREE, "too_many_texts"),
        (["short", "x" * 1_001], None, Tier.FREE, "text_too_long"),
        (["a"], "no-such-model", Tier.FREE, "unknown_model"),
        (["a"], "text-embedding-3-small", Tier.FREE, "model_not_allowed"),  # the tier's policy, on every path
        (["a"], "text-embedding-3-small", Tier.ENTERPRISE, "provider_not_configured"),
    ],
)
async def test_limits_and_unknown_models_are_clear_errors(service, redis, texts, model, tier, code) -> None:
    _, settings = service
    client = BaseRedisClient(redis, settings, "tester")
    with pytest.raises(NoobleError) as caught:
        await client.call(embedding.GENERATE, EmbedRequest(texts=texts, model=model), tenant_id="t1", tenant_tier=tier)
    assert caught.value.code == code


async def test_concurrent_requests_are_coalesced_into_model_batches(service, redis, monkeypatch) -> None:
    _, settings = service
    client = BaseRedisClient(redis, settings, "tester")
    calls = []
    original = LocalMiniLM.embed_sync

    def counting(self, texts):
        calls.append(len(texts))
        return original(self, texts)

    monkeypatch.setattr(LocalMiniLM, "embed_sync", counting)
    requests = [EmbedRequest(texts=[f"distinct text number {i}"]) for i in range(24)]
    results = await asyncio.gather(*(client.call(embedding.GENERATE, r, tenant_id="t1") for r in requests))
    assert all(len(r.embeddings) == 1 for r in results)
    assert sum(calls) == 24 and len(calls) < 24  # fewer model calls than requests


async def test_openai_provider_through_the_real_client(openai_standin: str, settings, redis, queues) -> None:
    """text-embedding-3-small via the openai SDK against the stand-in server (vectors come back reordered)."""
    service = EmbeddingService(
        redis, queues, EmbeddingSettings(openai_api_key=API_KEY, openai_base_url=f"{openai_standin}/v1")
    )
    try:
        result = await service.generate("t1", Tier.ENTERPRISE, ["first text", "second, different text"], "openai")
    finally:
        await service.close()
    assert result.model == "text-embedding-3-small" and result.dimensions == 1536
    assert sum(result.embeddings[0]) == len("first text")  # in input order despite the shuffled reply
    assert sum(result.embeddings[1]) == len("second, different text")


async def test_a_question_is_embedded_before_a_document_queued_ahead_of_it() -> None:
    """Interactive texts (a chat turn's retrieval) jump the queue of bulk ones (an ingestion), on the real model."""
    batcher = Batcher(LocalMiniLM(threads=1), batch_size=8, wait_ms=0)
    finished: list[str] = []

    async def embed(kind: str, texts: list[str], bulk: bool) -> None:
        await batcher.embed(texts, bulk=bulk)
        finished.append(kind)

    try:
        document = asyncio.create_task(embed("document", [f"chunk {i} of a long manual" for i in range(64)], True))
        await asyncio.sleep(0)  # the document's 64 texts are queued first
        await embed("question", ["What is the default block size?"], False)
        assert finished == ["question"]  # done while most of the document still waits
        await document
    finally:
        await batcher.close()


async def test_a_documents_chunks_are_embedded_at_background_priority() -> None:
    """One session; a document's chunks run on threads at SCHED_IDLE, a question's on normal threads, and the
    process's own threads stay as they were."""
    model = LocalMiniLM(threads=2)
    before = {int(tid) for tid in os.listdir("/proc/self/task")}
    try:
        vectors = await model.embed(["a chunk of a long manual"], bulk=True)
        bulk_threads = {int(tid) for tid in os.listdir("/proc/self/task")} - before
        assert len(vectors[0]) == 384 and bulk_threads
        assert {os.sched_getscheduler(tid) for tid in bulk_threads} == {os.SCHED_IDLE}
        question = await model.embed(["a question"])
        interactive = {int(tid) for tid in os.listdir("/proc/self/task")} - before - bulk_threads
        assert interactive and {os.sched_getscheduler(tid) for tid in interactive} == {os.SCHED_OTHER}
        assert os.sched_getscheduler(0) == os.SCHED_OTHER
        # the same vectors either way, and however the texts are cut into runs
        same = await model.embed(["a chunk of a long manual"])
        assert np.allclose(vectors[0], same[0], atol=1e-6) and len(question[0]) == 384
    finally:
        model.close()


def test_runs_are_cut_by_padded_tokens_and_give_the_same_vectors() -> None:
    """A batch of long and short texts is sorted and cut into runs of at most `max_batch_tokens` padded tokens
    (what bounds the session's memory); each text's vector is what it gets alone."""
    texts = ["short", "word " * 200, "a medium sized sentence about lanterns", "word " * 120, "x"]
    runs: list[int] = []

    class Counted(LocalMiniLM):
        def _run(self, encoded: list[Encoding]) -> np.ndarray:
            runs.append(len(encoded) * max(len(e.ids) for e in encoded))
            return super()._run(encoded)

    small = Counted(threads=1, max_batch_tokens=256)
    try:
        together = small.embed_sync(texts)
        assert max(runs) <= 256 and len(runs) >= 3
        for text, vector in zip(texts, together, strict=True):
            assert np.allclose(vector, small.embed_sync([text])[0], atol=1e-5)
    finally:
        small.close()
