"""Lexical search is BM25 over the product's own postings: its scores equal the bm25s library's (Lucene BM25,
same k1 and b) computed on the very same terms, rare words outweigh common ones, identifiers are found by their
dotted suffixes and camelCase names, and another tenant's chunks change neither results nor statistics."""

from __future__ import annotations

from types import SimpleNamespace

import bm25s
import pytest
import sqlalchemy as sa

from common.contracts.query import SearchMode, SearchRequest
from common.database import create_engine
from ingestion_service.services.chunking import Chunk
from ingestion_service.services.pipeline import store_chunks
from query_service.services.lexical import K1, B, text_search
from tests.support.knowledge_rows import add_collection, add_ready_document

DOCS = {
    "call-at": "Schedule a callback: asyncio.loop.call_at(when, callback) runs it at an absolute time.",
    "call-soon": "loop.call_soon(callback) schedules the callback on the next iteration of the loop; call it often.",
    "loop-talk": "The loop, the loop and the loop again: call the loop, call the loop, and loop once more.",
    "users": "getUserName() returns the name of the signed-in user, or null before sign-in.",
    "zebra": "A zygodactyl zebra crossing the savanna at dawn, watched by the zebra herd.",
    "herd": "The herd crossing the savanna at dawn, the herd again crossing at dusk, the herd at rest.",
    "long": " ".join(["savanna dawn crossing"] * 40) + " zebra",
}


async def _collection(engine, tenant: str, docs: dict[str, str], config: str = "english") -> None:
    async with engine.begin() as conn:
        await add_collection(conn, tenant, f"{tenant}-c", text_search_config=config)
    collection = SimpleNamespace(dimensions=384, text_search_config=config)
    for name, text in docs.items():
        document = SimpleNamespace(id=f"{tenant}-{name}", collection_id=f"{tenant}-c", title=name)
        async with engine.begin() as conn:
            await add_ready_document(conn, tenant, document.id, document.collection_id, title=name)
        await store_chunks(engine, tenant, document, collection, [Chunk(0, text, None, None, len(text.split()))])


@pytest.fixture
async def engine(migrated):
    engine = create_engine(migrated)
    await _collection(engine, "tenant-a", DOCS)
    yield engine
    await engine.dispose()


async def _search(engine, tenant: str, query: str, top_k: int = 10, config: str = "english"):
    request = SearchRequest(query=query, collection_ids=[f"{tenant}-c"], top_k=top_k, mode=SearchMode.TEXT)
    return await text_search(engine, tenant, request, top_k, {config: [f"{tenant}-c"]})


async def _terms(engine, tenant: str) -> dict[str, list[str]]:
    """Each chunk's terms as stored (a term repeated tf times), by document title."""
    async with engine.connect() as conn:
        rows = await conn.execute(
            sa.text(
                "SELECT d.title, t.term, t.tf FROM chunk_terms t JOIN chunks c ON c.id = t.chunk_id "
                "JOIN documents d ON d.id = c.document_id WHERE t.tenant_id = :tenant ORDER BY d.title, t.term"
            ),
            {"tenant": tenant},
        )
        terms: dict[str, list[str]] = {}
        for row in rows:
            terms.setdefault(row.title, []).extend([row.term] * row.tf)
    return terms


async def test_scores_are_bm25_computed_on_the_stored_terms(engine) -> None:
    terms = await _terms(engine, "tenant-a")
    titles = sorted(terms)
    reference = bm25s.BM25(k1=K1, b=B, method="lucene")
    reference.index(bm25s.tokenization.Tokenized(*_vocabulary_ids([terms[t] for t in titles])), show_progress=False)
    for query in ("zebra crossing at dawn", "how do I call loop.call_at?", "user name"):
        hits = await _search(engine, "tenant-a", query)
        async with engine.connect() as conn:
            query_terms = (
                await conn.scalars(
                    sa.text(
                        "SELECT DISTINCT lexeme FROM unnest(to_tsvector('english', :prose) || "
                        "to_tsvector('simple', :identifiers))"
                    ),
                    _lexical(query),
                )
            ).all()
        expected = reference.get_scores([reference.vocab_dict[t] for t in query_terms if t in reference.vocab_dict])
        got = {hit.document_title: hit.score for hit in hits}
        for index, title in enumerate(titles):  # BM25's (k1 + 1) factor: Lucene drops it, ranking unchanged
            assert got.get(title, 0.0) == pytest.approx(expected[index] * (K1 + 1), rel=1e-6, abs=1e-9), title


def _lexical(query: str) -> dict[str, str]:
    from common.lexical import lexical_text

    text = lexical_text(query)
    return {"prose": text.prose, "identifiers": text.identifiers}


def _vocabulary_ids(documents_terms: list[list[str]]) -> tuple[list[list[int]], dict[str, int]]:
    vocabulary: dict[str, int] = {}
    ids = [[vocabulary.setdefault(term, len(vocabulary)) for term in doc] for doc in documents_terms]
    return ids, vocabulary


async def test_rare_words_and_whole_identifiers_rank_first(engine) -> None:
    assert (await _search(engine, "tenant-a", "zygodactyl crossing"))[0].document_title == "zebra"
    # `loop` and `call` are everywhere in loop-talk; only call-at names the method
    assert (await _search(engine, "tenant-a", "loop.call_at"))[0].document_title == "call-at"
    assert (await _search(engine, "tenant-a", "call_soon"))[0].document_title == "call-soon"
    assert (await _search(engine, "tenant-a", "getUserName"))[0].document_title == "users"
    assert (await _search(engine, "tenant-a", "who is the signed in user name"))[0].document_title == "users"
    # a long chunk repeating the words is not ahead of a short one holding them (length normalisation)
    ranked = [hit.document_title for hit in await _search(engine, "tenant-a", "zebra savanna dawn")]
    assert ranked.index("zebra") < ranked.index("long")
    assert await _search(engine, "tenant-a", "nothing matches xylophone") == []


async def test_another_tenant_changes_neither_results_nor_statistics(engine) -> None:
    before = [(hit.chunk_id, hit.score) for hit in await _search(engine, "tenant-a", "zebra herd at dawn")]
    await _collection(engine, "tenant-b", {f"b{i}": "zebra zebra herd dawn zebra" for i in range(30)})
    after = [(hit.chunk_id, hit.score) for hit in await _search(engine, "tenant-a", "zebra herd at dawn")]
    assert after == before  # tenant B's 30 zebra chunks would lower "zebra"'s IDF if they were counted
    assert {hit.document_title for hit in await _search(engine, "tenant-b", "zebra", top_k=50)} == {
        f"b{i}" for i in range(30)
    }


async def test_the_collection_language_stems_its_own_words(migrated) -> None:
    engine = create_engine(migrated)
    try:
        await _collection(engine, "tenant-es", {"horario": "Abrimos las tiendas por las mañanas."}, config="spanish")
        hits = await _search(engine, "tenant-es", "¿cuándo abren la tienda?", config="spanish")
        assert [hit.document_title for hit in hits] == ["horario"]  # tiendas/tienda, abrimos/abren: one stem
    finally:
        await engine.dispose()
