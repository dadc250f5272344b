"""Grounded answers read sections, not fragments: a hit's context is the run of chunks around it under the same
heading, joined without the overlap the chunker repeats, within a token budget."""

from __future__ import annotations

from types import SimpleNamespace

from common.database import create_engine
from common.models.knowledge import SearchHit
from ingestion_service.services.chunking import Chunk
from ingestion_service.services.pipeline import store_chunks
from query_service.services.context import join_overlapping, with_sections
from tests.support.knowledge_rows import add_collection, add_ready_document

REFUNDS = [  # one section cut into overlapping chunks, as the chunker does (each repeats the last words)
    "Refunds: send the receipt within 30 days of purchase.",
    "within 30 days of purchase. Refunds are paid to the original card",
    "to the original card in 5 to 7 working days.",
]


async def _document(engine, pieces: list[Chunk]) -> None:
    async with engine.begin() as conn:
        await add_collection(conn, "t", "c")
        await add_ready_document(conn, "t", "d", "c", title="handbook")
    document = SimpleNamespace(id="d", collection_id="c", title="handbook")
    await store_chunks(engine, "t", document, SimpleNamespace(dimensions=384, text_search_config="english"), pieces)


def _hit(piece: Chunk) -> SearchHit:
    return SearchHit(
        chunk_id=piece.position, document_id="d", collection_id="c", document_title="handbook", source="handbook.md",
        content=piece.content, position=piece.position, page=None, heading=piece.heading, score=1.0,
    )  # fmt: skip


async def test_a_hit_brings_its_whole_section_and_nothing_of_the_next(migrated) -> None:
    pieces = [Chunk(i, text, None, "Refunds", 12) for i, text in enumerate(REFUNDS)]
    pieces += [Chunk(3, "Opening hours: 9 to 17, Monday to Friday.", None, "Hours", 10)]
    engine = create_engine(migrated)
    try:
        await _document(engine, pieces)
        [middle, hours] = await with_sections(engine, "t", [_hit(pieces[1]), _hit(pieces[3])], max_tokens=100)
        assert middle.context == (
            "Refunds: send the receipt within 30 days of purchase. Refunds are paid to the original card"
            " in 5 to 7 working days."
        )
        assert hours.context == pieces[3].content  # another heading: not part of the refunds section
        [cut] = await with_sections(engine, "t", [_hit(pieces[0])], max_tokens=24)  # room for one more chunk
        assert (
            cut.context == "Refunds: send the receipt within 30 days of purchase. Refunds are paid to the original card"
        )
        [alone] = await with_sections(engine, "other-tenant", [_hit(pieces[1])], max_tokens=100)
        assert alone.context == pieces[1].content  # another tenant's chunks are never read
    finally:
        await engine.dispose()


def test_joining_removes_only_a_real_overlap() -> None:
    assert join_overlapping(REFUNDS[0], REFUNDS[1]).count("within 30 days") == 1
    assert join_overlapping("A short line.", "Another line.") == "A short line.\nAnother line."
