"""How text becomes lexical search terms — the same for a chunk when it is indexed (ingestion) and for a query
when it is searched (query service), so both sides always agree.

PostgreSQL's parsers keep `asyncio.loop.call_at` as one host-like token and split `call_at` at the underscore,
so neither `loop.call_at` nor `getUserName` would match its own documentation. Before the text reaches
`to_tsvector`, every identifier-like token (dotted, snake_case, camelCase, paths, `--long-options`) is
rewritten:

- in the **prose**, into its parts (`asyncio loop call at`, `get User Name`), which the collection's language
  configuration stems like any word: a question about "user names" still finds `getUserName`;
- as **whole-identifier terms** (searched with the `simple` configuration): the identifier and each of its
  dotted suffixes with separators removed (`asyncioloopcallat`, `loopcallat`, `callat`), and each camelCase
  segment (`getusername`). A query naming `loop.call_at` matches the chunk that documents it with a term far
  rarer — so far stronger under BM25's IDF — than `loop` or `call`.
"""

from __future__ import annotations

import re
from typing import NamedTuple

IDENTIFIER = re.compile(
    r"(?<![\w$])(?:[A-Za-z_$][\w$]*(?:(?:\.|::|/|-)[A-Za-z_$][\w$]*)+"  # dotted, paths, Rust/C++ paths, options
    r"|[A-Za-z$]*_[\w$]*|[a-z$]+[A-Z][\w$]*|[A-Z]+[a-z]+[A-Z][\w$]*)"  # snake_case, camelCase, PascalCase
)
_SEPARATORS = re.compile(r"(?:\.|::|/|-|_)+")
_HUMP = re.compile(r"(?<=[a-z0-9])(?=[A-Z])|(?<=[A-Z])(?=[A-Z][a-z])")
MAX_TERM_CHARS = 100  # a "word" longer than this is noise (base64, minified code): not a term


class LexicalText(NamedTuple):
    prose: str  # for to_tsvector(<collection configuration>, ...)
    identifiers: str  # for to_tsvector('simple', ...)


def _whole_terms(identifier: str) -> list[str]:
    segments = [s for s in _SEPARATORS.split(identifier) if s]
    suffixes, suffix = [], segments[-1] if segments else ""
    for segment in reversed(segments[:-1]):  # longer and longer: stop at the first too long (linear, not n²)
        suffix = segment + suffix
        if len(suffix) > MAX_TERM_CHARS:
            break
        suffixes.append(suffix.lower())
    terms = [*reversed(suffixes), *(s.lower() for s in segments if _HUMP.search(s))]
    return [t for t in dict.fromkeys(terms) if len(t) <= MAX_TERM_CHARS]


def _parts(identifier: str) -> str:
    return " ".join(_HUMP.sub(" ", segment) for segment in _SEPARATORS.split(identifier) if segment)


def lexical_text(*texts: str | None) -> LexicalText:
    """Prose and whole-identifier terms of the given texts (a chunk's title, heading and content)."""
    prose, identifiers = [], []
    for text in texts:
        if not text:
            continue
        prose.append(IDENTIFIER.sub(lambda m: _parts(m.group(0)), text))
        for match in IDENTIFIER.finditer(text):
            identifiers += _whole_terms(match.group(0))
    return LexicalText("\n".join(prose), " ".join(identifiers))
