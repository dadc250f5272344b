"""Grounded answers, the same for a chat turn (execution service) and `query.generate` (query service).

Retrieval runs before the model (`query.search` with evidence); then one of three things happens:

- nothing retrieved is relevant enough (every hit's `relevance` below the agent's `min_relevance`): the answer is
  the agent's abstain message, and no model is called — a small model asked to answer anyway invents;
- `quote` answers (the default for the bundled local model, which cannot be trusted to copy a figure): the answer
  leads with the best supporting sentences, quoted verbatim and cited as [n]; the model only phrases a short
  answer after them, from those quotes alone. The fact the user needs never depends on the model;
- `model` answers (capable models): the numbered sources go into the prompt, the model writes the answer and
  cites them as [n]; citations that name no source are removed.

The numbers [n] always index the `sources` event of the turn (the relevant hits, best first).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from functools import lru_cache
from typing import Any

import Stemmer

from common.llm.settings import ModelSpec
from common.models.knowledge import AnswerStyle, SearchHit
from common.tokens import count_tokens

MAX_QUOTES = 2
QUOTE_MARGIN = 0.12  # a second quote is shown when it scores within this of the best one
PHRASING_MAX_TOKENS = 96

_WORD = re.compile(r"[^\W_]+(?:[._'-][^\W_]+)*")
_CITATION = re.compile(r"\[(\d+)\]")
_FOLLOW_UP_START = re.compile(
    r"^\s*(and|or|but|also|so|then|what about|how about|what of|same for|and what about)\b", re.IGNORECASE
)
_ANAPHORA = frozenset("it its they them their theirs this that these those he she his her him there".split())
STOPWORDS = frozenset(
    """a about above after again against all am an and any are as at be because been before being below between
    both but by can could did do does doing down during each few for from further had has have having here how i if
    in into is it its itself just me more most my no nor not now of off on once only or other our ours out over own
    same she should so some such than that the their theirs them then there these they this those through to too
    under until up very was we were what when where which while who whom why will with would you your yours
    tell explain describe please know give list show find say said according mean means meant""".split()
)
_SMALL_TALK = frozenset(
    """hi hello hey hiya thanks thank thx ok okay bye goodbye good morning afternoon evening night great cool nice
    yes yeah yep no nope sure fine awesome welcome cheers lot much later see""".split()
)


@lru_cache(maxsize=1)
def _stemmer() -> Stemmer.Stemmer:
    return Stemmer.Stemmer("english")


def words(text: str) -> list[str]:
    return [w.lower() for w in _WORD.findall(text)]


def content_terms(text: str) -> list[str]:
    """The text's stemmed words without stop words, in order, once each: what a question is about."""
    kept = [w for w in words(text) if w not in STOPWORDS]
    return list(dict.fromkeys(_stemmer().stemWords(kept)))


def is_small_talk(message: str) -> bool:
    """A greeting or a thank-you: nothing to look up."""
    return all(word in STOPWORDS or word in _SMALL_TALK for word in words(message))


def standalone_query(message: str, earlier_questions: Sequence[str]) -> str:
    """What to search for: the message, or — for a follow-up that leans on the previous question ("and in 2020?",
    "who wrote it?") — the previous question and the message together. Decided by the message's shape, not by a
    model, so it works the same with the bundled model."""
    if not earlier_questions:
        return message
    lowered = words(message)
    leans = bool(_FOLLOW_UP_START.match(message)) or (
        any(word in _ANAPHORA for word in lowered) and len(content_terms(message)) <= 3
    )
    return f"{earlier_questions[-1]} {message}" if leans else message


def relevant_sources(hits: Sequence[SearchHit], min_relevance: float) -> list[SearchHit]:
    """The hits whose best sentence clears `min_relevance`, best first: the numbered sources of an answer."""
    kept = [hit for hit in hits if (hit.relevance or 0.0) >= min_relevance]
    return sorted(kept, key=lambda hit: -(hit.relevance or 0.0))


def quotes(sources: Sequence[SearchHit]) -> list[tuple[int, str]]:
    """(source number, sentence) of the best supporting sentences: the best one, and at most MAX_QUOTES - 1 more
    scoring within QUOTE_MARGIN of it."""
    ranked = sorted(
        (
            (evidence.score, number, evidence.text)
            for number, hit in enumerate(sources, 1)
            for evidence in hit.evidence or []
        ),
        key=lambda item: (-item[0], item[1]),
    )
    chosen: list[tuple[int, str]] = []
    for score, number, text in ranked:
        if len(chosen) == MAX_QUOTES or score < ranked[0][0] - QUOTE_MARGIN:
            break
        if all(text != seen for _, seen in chosen):
            chosen.append((number, text))
    return chosen


def render_quotes(chosen: Sequence[tuple[int, str]]) -> str:
    """The quotes as markdown block quotes, each cited, followed by a blank line."""
    return "".join(f"> {' '.join(text.split())} [{number}]\n\n" for number, text in chosen)


def phrasing_model(spec: ModelSpec) -> ModelSpec:
    """The model that phrases after the quotes: the answering one, held to PHRASING_MAX_TOKENS."""
    return spec.model_copy(update={"max_tokens": min(spec.max_tokens, PHRASING_MAX_TOKENS)})


def phrasing_prompt(question: str, chosen: Sequence[tuple[int, str]]) -> tuple[str, str]:
    """(system, user) messages asking a small model to answer from the quotes alone, briefly."""
    facts = "\n".join(f"- {' '.join(text.split())}" for _, text in chosen)
    system = (
        "You answer the question in one or two short sentences, using only the facts given. "
        "Do not add anything that is not in the facts."
    )
    return system, f"Facts:\n{facts}\n\nQuestion: {question}"


GROUNDING_INSTRUCTIONS = (
    "Answer using only the numbered sources below. Cite every source you use as [n] right after the statement it "
    "supports. If the sources do not contain the answer, say that your documents do not answer the question."
)


def sources_prompt(sources: Sequence[SearchHit], max_tokens: int) -> str:
    """The numbered sources (each hit's section), as many as fit `max_tokens`, best first."""
    lines: list[str] = []
    used = 0
    for number, hit in enumerate(sources, 1):
        where = f", page {hit.page}" if hit.page else ""
        line = f"[{number}] {hit.document_title}{where}: {' '.join((hit.context or hit.content).split())}"
        cost = count_tokens(line)
        if lines and used + cost > max_tokens:
            break
        lines.append(line)
        used += cost
    return "Sources:\n" + "\n".join(lines)


def cited(answer: str, count: int) -> list[int]:
    """The source numbers the answer cites, in first-cited order (numbers outside 1..count are not citations)."""
    return list(dict.fromkeys(int(n) for n in _CITATION.findall(answer) if 1 <= int(n) <= count))


def without_unknown_citations(answer: str, count: int) -> str:
    """The answer with every [n] that names no source removed."""
    return _CITATION.sub(lambda m: m.group(0) if 1 <= int(m.group(1)) <= count else "", answer)


def answer_style(style: AnswerStyle, provider: str, local_writes_answers: bool = False) -> AnswerStyle:
    """`auto` resolved: quotes for the local provider (the bundled small model) unless it is configured as one that
    writes answers (`local_llm_writes_answers`), the model's own answer for the others."""
    if style != AnswerStyle.AUTO:
        return style
    return AnswerStyle.QUOTE if provider == "local" and not local_writes_answers else AnswerStyle.MODEL


def source_item(hit: SearchHit) -> dict[str, Any]:
    """A hit as a source of the `sources` event and of the stored message: without its section and evidence."""
    return hit.model_dump(mode="json", exclude={"context", "evidence"})


_NUMBER = re.compile(r"(?<![^\W\d_])\d+(?:[.,]\d+)*")  # a figure, not the digit of a name ("bzip2")
_SENTENCE_BREAK = re.compile(r"(?<=[.!?])\s+|\n+")
# words a faithful phrasing may use that the quotes need not hold ("the documents say that ...")
_PHRASING_WORDS = "answer question document source quote fact according mention state say yes short"
MIN_SUPPORTED_SHARE = 1.0  # of a phrased sentence's content terms, found in the quotes or the question
MAX_PHRASED_SENTENCES = 2
MIN_PHRASED_TERMS = 2  # "The answer is: bzip2" says nothing the quotes do not
NUMBER_WINDOW = 4  # words each side of a figure that must share a term with the figure's own words in the quotes


@lru_cache(maxsize=1)
def _phrasing_terms() -> frozenset[str]:
    return frozenset(content_terms(_PHRASING_WORDS))


def _figure_contexts(text: str) -> dict[str, set[str]]:
    """Each figure of `text` → the content terms within NUMBER_WINDOW words of it (all its occurrences)."""
    tokens = text.split()
    contexts: dict[str, set[str]] = {}
    for index, token in enumerate(tokens):
        for figure in _NUMBER.findall(token):
            window = tokens[max(0, index - NUMBER_WINDOW) : index] + tokens[index + 1 : index + 1 + NUMBER_WINDOW]
            words_around = [term for term in content_terms(" ".join(window)) if not term[0].isdigit()]
            contexts.setdefault(figure, set()).update(words_around)
    return contexts


class SupportedPhrasing:
    """A small model's phrasing after the quotes, checked sentence by sentence as it streams: a sentence is kept
    only when every number in it is in the quotes (or the question), at least MIN_SUPPORTED_SHARE of its content
    terms (at least MIN_PHRASED_TERMS, words like "answer" or "document" not counted) are, one of them comes
    from the quotes rather than the question, and each figure stands among words that stand around it in the
    quotes; the rest (invented figures, "this answer is incorrect", the question
    said back, chatter) is dropped. At most MAX_PHRASED_SENTENCES are kept; `done` tells
    the caller it can stop the model."""

    def __init__(self, chosen: Sequence[tuple[int, str]], question: str):
        quoted = " ".join(text for _, text in chosen)
        self._numbers = set(_NUMBER.findall(f"{quoted} {question}"))
        self._quoted_figures = _figure_contexts(quoted)
        self._terms = set(content_terms(f"{quoted} {question}"))
        self._news = set(content_terms(quoted)) - set(content_terms(question))  # what the quotes add
        self._pending = ""
        self.kept: list[str] = []

    @property
    def done(self) -> bool:
        return len(self.kept) >= MAX_PHRASED_SENTENCES

    def supported(self, sentence: str) -> bool:
        if sentence.endswith(":") or any(number not in self._numbers for number in _NUMBER.findall(sentence)):
            return False  # a list announced, or a figure the quotes do not hold
        for figure, around in _figure_contexts(sentence).items():  # "exit code ... is 1" where the quote says
            quoted = self._quoted_figures.get(figure)  # "1 for environmental problems": the figure moved
            if quoted is not None and around and not around & quoted:
                return False
        terms = [term for term in content_terms(sentence) if term not in _phrasing_terms()]
        known = sum(term in self._terms for term in terms)
        says_something = any(term in self._news for term in terms)  # not only the question said back
        return len(terms) >= MIN_PHRASED_TERMS and known / len(terms) >= MIN_SUPPORTED_SHARE and says_something

    def feed(self, delta: str) -> str:
        """What to show of the phrasing so far: the sentences completed by `delta` that are supported."""
        self._pending += delta
        *complete, self._pending = _SENTENCE_BREAK.split(self._pending)
        return self._keep(complete)

    def finish(self) -> str:
        """The last sentence, when supported (the model ended without a break after it)."""
        rest, self._pending = self._pending, ""
        return self._keep([rest])

    def _keep(self, sentences: list[str]) -> str:
        shown = []
        for sentence in (s.strip().lstrip("-*\u2022 ") for s in sentences):
            if sentence and not self.done and self.supported(sentence):
                self.kept.append(sentence)
                shown.append(sentence)
        return "".join(f"{' ' if len(self.kept) - len(shown) + i else ''}{s}" for i, s in enumerate(shown))
