"""The rules of grounded answers (common.grounding) and the sentence split of evidence, on small inputs."""

from __future__ import annotations

from common.grounding import (
    SupportedPhrasing,
    answer_style,
    cited,
    content_terms,
    is_small_talk,
    quotes,
    relevant_sources,
    render_quotes,
    sources_prompt,
    standalone_query,
    without_unknown_citations,
)
from common.models.knowledge import AnswerStyle, Evidence, SearchHit
from ingestion_service.services.extract import clean_text
from query_service.services.evidence import MAX_SENTENCE_WORDS, sentences


def hit(chunk_id: int, relevance: float, *evidence: tuple[str, float], context: str = "") -> SearchHit:
    return SearchHit(
        chunk_id=chunk_id,
        document_id=f"d{chunk_id}",
        collection_id="c",
        document_title=f"doc {chunk_id}",
        source=f"doc{chunk_id}.txt",
        content=context or "content",
        context=context or None,
        position=0,
        page=None,
        heading=None,
        score=1.0,
        evidence=[Evidence(text=text, score=score) for text, score in evidence],
        relevance=relevance,
    )


def test_a_follow_up_is_searched_with_the_question_it_follows() -> None:
    earlier = ["What was the revenue in 2019?"]
    assert standalone_query("and in 2020?", earlier) == "What was the revenue in 2019? and in 2020?"
    assert standalone_query("What about the free tier?", earlier).startswith("What was the revenue")
    assert standalone_query("Who wrote it?", earlier).startswith("What was the revenue")
    # a new question stands alone, however short
    assert standalone_query("What is GRPO?", earlier) == "What is GRPO?"
    assert standalone_query("and in 2020?", []) == "and in 2020?"


def test_small_talk_has_nothing_to_look_up() -> None:
    assert is_small_talk("Hi!") and is_small_talk("thanks a lot") and is_small_talk("Good morning")
    assert not is_small_talk("hi, what is the refund policy?")
    assert content_terms("What are the Running costs?") == ["run", "cost"]


def test_only_sources_above_the_minimum_relevance_are_numbered_best_first() -> None:
    hits = [hit(1, 0.3), hit(2, 0.7), hit(3, 0.5)]
    assert [h.chunk_id for h in relevant_sources(hits, 0.42)] == [2, 3]
    assert relevant_sources(hits, 0.9) == []


def test_quotes_are_the_best_sentences_within_a_margin_cited_by_source_number() -> None:
    sources = [
        hit(1, 0.8, ("Refunds are issued within 14 days.", 0.8), ("Keep the receipt.", 0.3)),
        hit(2, 0.75, ("Refunds need the receipt.", 0.75)),
    ]
    chosen = quotes(sources)
    assert chosen == [(1, "Refunds are issued within 14 days."), (2, "Refunds need the receipt.")]
    assert render_quotes(chosen) == "> Refunds are issued within 14 days. [1]\n\n> Refunds need the receipt. [2]\n\n"
    far = [hit(1, 0.9, ("Best.", 0.9), ("Far behind.", 0.5))]
    assert quotes(far) == [(1, "Best.")]


def test_citations_name_sources_and_unknown_ones_are_removed() -> None:
    assert cited("As [2] says, and [1], and [2] again, not [0] or [9].", 3) == [2, 1]
    assert without_unknown_citations("Yes [1][7].", 2) == "Yes [1]."


def test_the_sources_prompt_fits_its_token_budget() -> None:
    long = " ".join(["word"] * 400)
    prompt = sources_prompt([hit(1, 0.9, context=long), hit(2, 0.8, context=long)], max_tokens=500)
    assert "[1] doc 1" in prompt and "[2]" not in prompt


def test_auto_answer_style_quotes_for_the_local_model_only() -> None:
    assert answer_style(AnswerStyle.AUTO, "local") == AnswerStyle.QUOTE
    assert answer_style(AnswerStyle.AUTO, "openai") == AnswerStyle.MODEL
    assert answer_style(AnswerStyle.MODEL, "local") == AnswerStyle.MODEL


def test_sentences_split_paragraphs_lists_and_long_runs() -> None:
    text = "2.3. DESCRIPTION\nIntro line here. Second one follows!\n\n- first item of list\n- second item of list\nok"
    assert sentences(text) == [
        "Intro line here.",
        "Second one follows!",
        "- first item of list",
        "- second item of list",
    ]
    wrapped = "Set the block size to 100 k, 200 k ... 900 k when compressing. See\nMEMORY MANAGEMENT below."
    assert sentences(wrapped) == [
        "Set the block size to 100 k, 200 k ... 900 k when compressing.",
        "See MEMORY MANAGEMENT below.",
    ]
    long = " ".join(f"w{i}" for i in range(150))
    assert [len(s.split()) for s in sentences(long)] == [MAX_SENTENCE_WORDS, MAX_SENTENCE_WORDS, 30]
    assert sentences("a b") == []  # a fragment is no evidence


def test_pdf_ligatures_become_letters_search_can_match() -> None:
    assert clean_text("compressed \ufb01les, \ufb02ags and e\ufb00ort") == "compressed files, flags and effort"


def test_the_phrasing_keeps_only_sentences_the_quotes_support() -> None:
    quote = [(1, "For files compressed with the default 900k block size, bunzip2 will require about 3700 kbytes.")]
    question = "How much memory does bunzip2 need for the default 900k block size?"
    phrasing = SupportedPhrasing(quote, question)
    streamed = "The answer is: bunzip2 needs 3700 kbytes.\n\nIt needs about 1684 bytes (54 MB). The memory "
    shown = "".join(phrasing.feed(streamed[i : i + 5]) for i in range(0, len(streamed), 5)) + phrasing.finish()
    assert shown == "The answer is: bunzip2 needs 3700 kbytes."  # the invented figures are dropped, the rest cut
    echo = SupportedPhrasing(quote, question)
    assert echo.feed("Bunzip2 needs memory for the default block size. ") == ""  # the question said back
    assert echo.feed("This answer is incorrect, the correct answer would be:\n- kbytes") + echo.finish() == ""


def test_a_figure_moved_to_another_claim_is_dropped() -> None:
    quote = [(1, "Return values: 0 for a normal exit, 1 for environmental problems, 2 to indicate a corrupt file.")]
    phrasing = SupportedPhrasing(quote, "What exit code does bzip2 return for a normal exit?")
    assert phrasing.feed("The exit code returned by bzip2 is 1, which indicates a corrupt file. ") == ""
    assert phrasing.feed("Bzip2 returns 0 for a normal exit. ") == "Bzip2 returns 0 for a normal exit."
