"""Hybrid fusion: each ranking's scores scaled over its own candidates and summed with weights; the text ranking
weighs as much as its best hit matched the query's words."""

from __future__ import annotations

from common.contracts.query import SearchMode, SearchRequest
from common.models.knowledge import SearchHit
from query_service.services.search import fuse, reciprocal_rank_fusion, score_fusion, text_weight
from query_service.settings import QuerySettings


def hits(*scored: tuple[int, float]) -> list[SearchHit]:
    return [
        SearchHit(
            chunk_id=chunk_id,
            document_id="d",
            collection_id="c",
            document_title="t",
            source="s",
            content=f"chunk {chunk_id}",
            position=chunk_id,
            page=None,
            heading=None,
            score=score,
        )
        for chunk_id, score in scored
    ]


def order(scores: dict[int, float]) -> list[int]:
    return sorted(scores, key=lambda chunk_id: (-scores[chunk_id], chunk_id))


def test_a_chunk_strong_in_both_rankings_comes_first_and_margins_count() -> None:
    vector = hits((1, 0.62), (2, 0.61), (3, 0.40))
    text = hits((2, 9.0), (4, 2.0), (1, 1.0))
    assert order(score_fusion([vector, text], [1.0, 1.0]))[0] == 2
    # text's clear winner beats vector's narrow one when the text ranking weighs more
    lexical = hits((4, 30.0), (1, 3.0), (2, 2.0))
    assert order(score_fusion([vector, lexical], [1.0, 3.0]))[0] == 4
    assert order(score_fusion([vector, lexical], [1.0, 0.0]))[:3] == [1, 2, 3]


def test_a_lone_or_empty_ranking_still_counts_fully() -> None:
    fused = score_fusion([hits((5, 0.3)), hits((6, 4.0))], [1.0, 1.0])
    assert fused == {5: 1.0, 6: 1.0}  # a single hit is its ranking's best, not its worst
    assert order(score_fusion([hits((1, 0.9), (2, 0.5)), []], [1.0, 1.0])) == [1, 2]


def test_fused_hits_carry_each_modes_own_score() -> None:
    vector, text = hits((1, 0.8), (2, 0.5)), hits((2, 7.0))
    fused = fuse(vector, text, reciprocal_rank_fusion([vector, text], [1.0, 1.0], 60), 5)
    assert [(h.chunk_id, h.vector_score, h.text_score) for h in fused] == [(2, 0.5, 7.0), (1, 0.8, None)]


def test_the_text_ranking_weighs_as_much_as_its_best_hit_matched_the_query() -> None:
    settings = QuerySettings()
    ask = SearchRequest(query="how do I read a file synchronously?", collection_ids=["c"], mode=SearchMode.HYBRID)
    found = zip(hits((1, 9.0), (2, 3.0)), (0.9, 0.3), strict=True)
    name_found = [h.model_copy(update={"text_share": share}) for h, share in found]
    words_only = [h.model_copy(update={"text_share": 0.1}) for h in hits((1, 2.0))]
    assert text_weight(ask, name_found, settings) == settings.hybrid_text_weight * 0.9
    assert text_weight(ask, words_only, settings) == settings.hybrid_text_weight * 0.1
    assert text_weight(ask, [], settings) == 0.0
    assert text_weight(ask.model_copy(update={"text_weight": 0.5}), words_only, settings) == 0.5
