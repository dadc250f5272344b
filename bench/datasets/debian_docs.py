"""Two retrieval evaluation sets built from documentation that Debian packages install on this machine.

    python -m bench.datasets.debian_docs [OUT_DIR]      # default .artifacts/datasets

Writes BEIR-format directories (corpus.jsonl, queries.jsonl, qrels/test.tsv) that `bench.retrieval` reads:

- `node-api` (lexical-favouring): the Node.js API reference (`nodejs` package, /usr/share/doc/nodejs/api/*.md)
  split at its headings into sections; queries are the API names of method/property/class sections
  (`fs.readFileSync`, `filehandle.read`), judged relevant: every section documenting that name (overloads).
- `unix-faq` (dense-favouring): the FAQs of lsof, sed and zlib (/usr/share/doc/{lsof,sed,zlib1g-dev}); queries
  are the questions, the corpus holds every section's text *without* its question, so the answer has to be
  found by what it says, not by repeating the question's words.
- `manuals` (mixed; built for grounded answers): the four documents of bench/datasets/answers.json (the bzip2 and
  Valgrind manuals, PDF pages; Debian's users-and-groups page in passages of ~150 words; the zlib FAQ's entries);
  queries are that file's answerable questions, judged relevant: the passages their fact (or `judge`) matches.

Sections are sampled deterministically (every query's relevant sections, then distractors in file order) so
the sets stay the same between runs on the same packages.
"""

from __future__ import annotations

import gzip
import json
import re
import sys
from collections.abc import Iterator
from pathlib import Path

NODE_API = Path("/usr/share/doc/nodejs/api")
FAQS = {
    "lsof": Path("/usr/share/doc/lsof/00FAQ.gz"),
    "sed": Path("/usr/share/doc/sed/sedfaq.txt.gz"),
    "zlib": Path("/usr/share/doc/zlib1g-dev/FAQ.gz"),
}
NODE_MAX_SECTIONS = 3_000
NODE_MAX_QUERIES = 150
MIN_ANSWER_WORDS = 15

_HEADING = re.compile(r"^(#{1,6})\s+(.*)$")
_API_NAME = re.compile(r"`(?:new\s+)?([A-Za-z_$][\w$]*(?:\.[A-Za-z_$][\w$]*)+)(?:\(|`)")
_FAQ_NUMBER = re.compile(r"^ ?(\d+(?:\.\d+)+\.?|\d+\.)\s+(\S.*)$")  # 2.1, 4.11.1, 2.1. and zlib's " 7."


def node_sections() -> Iterator[tuple[str, str, str]]:
    """(section id, heading, text with its heading) for every heading of every API page."""
    for page in sorted(NODE_API.glob("*.md")):
        if page.stem in ("all", "index", "documentation"):
            continue
        heading, lines, number = "", [], 0
        for line in [*page.read_text(errors="replace").splitlines(), "# end"]:
            match = _HEADING.match(line)
            if not match:
                lines.append(line)
                continue
            body = "\n".join(lines).strip()
            if heading and len(body.split()) >= 5:
                number += 1
                yield f"{page.stem}-{number}", heading, f"{heading}\n\n{body}"
            heading, lines = match.group(2).strip(), []


def build_node_api() -> tuple[list[dict], dict[str, str], dict[str, dict[str, int]]]:
    sections = list(node_sections())
    by_name: dict[str, list[str]] = {}
    for section_id, heading, _ in sections:
        match = _API_NAME.search(heading)
        if match:
            by_name.setdefault(match.group(1), []).append(section_id)
    names = sorted(by_name)
    step = max(1, len(names) // NODE_MAX_QUERIES)
    chosen = names[::step][:NODE_MAX_QUERIES]
    relevant = {section_id for name in chosen for section_id in by_name[name]}
    kept = [s for s in sections if s[0] in relevant]
    kept += [s for s in sections if s[0] not in relevant][: max(0, NODE_MAX_SECTIONS - len(kept))]
    corpus = [{"_id": section_id, "title": "", "text": text} for section_id, _, text in kept]
    queries = {f"q{i}": name for i, name in enumerate(chosen)}
    qrels = {f"q{i}": dict.fromkeys(by_name[name], 1) for i, name in enumerate(chosen)}
    return corpus, queries, qrels


def faq_sections(name: str, path: Path) -> Iterator[tuple[str, str, str]]:
    """(section id, question or title, answer text) of a numbered plain-text FAQ; the table of contents
    lists the same numbers first, so each number's last occurrence is its body."""
    lines = gzip.decompress(path.read_bytes()).decode("utf-8", "replace").splitlines()
    starts: dict[str, int] = {}
    for index, line in enumerate(lines):
        match = _FAQ_NUMBER.match(line)
        if match:
            starts[match.group(1).rstrip(".")] = index
    ordered = sorted(starts.items(), key=lambda item: item[1])
    if not ordered:
        return
    for (number, start), (_, end) in zip(ordered, [*ordered[1:], ("", len(lines))], strict=True):
        title = _FAQ_NUMBER.match(lines[start]).group(2).strip()  # type: ignore[union-attr]
        body_start = start + 1
        while "?" not in title and body_start < end and lines[body_start].startswith(("\t", "    ")):
            if title.endswith("?") or not lines[body_start].strip():
                break
            title += " " + lines[body_start].strip()  # a question continued on indented lines
            body_start += 1
        if not title.rstrip().endswith("?") and body_start < end and lines[body_start].strip().endswith("?"):
            title += " " + lines[body_start].strip()
            body_start += 1
        answer = "\n".join(lines[body_start:end]).strip()
        if len(answer.split()) >= MIN_ANSWER_WORDS:
            yield f"{name}-{number}", title, answer


def build_unix_faq() -> tuple[list[dict], dict[str, str], dict[str, dict[str, int]]]:
    corpus, queries, qrels = [], {}, {}
    for name, path in FAQS.items():
        for section_id, title, answer in faq_sections(name, path):
            corpus.append({"_id": section_id, "title": "", "text": answer})
            if title.endswith("?"):
                queries[f"q-{section_id}"] = title
                qrels[f"q-{section_id}"] = {section_id: 1}
    return corpus, queries, qrels


MANUAL_PASSAGE_WORDS = 150


def manual_passages(name: str, raw: bytes) -> Iterator[tuple[str, str]]:
    """(passage id, text) of one document of the answers set: PDF pages, FAQ entries, ~150-word passages else."""
    from ingestion_service.services.extract import detect_kind, extract  # the product's own reading of the file

    if name.endswith(".txt"):  # the zlib FAQ, numbered
        path = Path("/tmp") / "nooble4-manual-faq.gz"
        path.write_bytes(gzip.compress(raw))
        for section_id, title, answer in faq_sections(name, path):
            yield section_id, f"{title}\n{answer}"
        return
    sections = extract(raw, detect_kind(name, None)).sections
    if name.endswith(".pdf"):
        pages: dict[int, list[str]] = {}
        for section in sections:
            pages.setdefault(section.page or 0, []).append(section.text)
        for page, texts in sorted(pages.items()):
            yield f"{name}-p{page}", "\n".join(texts)
        return
    words = " ".join(section.text for section in sections).split()
    for start in range(0, len(words), MANUAL_PASSAGE_WORDS):
        yield f"{name}-w{start}", " ".join(words[start : start + MANUAL_PASSAGE_WORDS])


def build_manuals() -> tuple[list[dict], dict[str, str], dict[str, dict[str, int]]]:
    dataset = json.loads((Path(__file__).parent / "answers.json").read_text())
    corpus = []
    for doc in dataset["documents"]:
        raw = Path(doc["path"]).read_bytes()
        raw = gzip.decompress(raw) if doc["path"].endswith(".gz") else raw
        corpus += [{"_id": pid, "title": "", "text": text} for pid, text in manual_passages(doc["id"], raw)]
    queries, qrels = {}, {}
    for i, question in enumerate(dataset["answerable"]):
        mark = re.compile(question.get("judge") or question["fact"], re.IGNORECASE)
        judged = {entry["_id"]: 1 for entry in corpus if mark.search(" ".join(entry["text"].split()))}
        if judged:
            queries[f"q{i}"], qrels[f"q{i}"] = question["q"], judged
    return corpus, queries, qrels


def write(out: Path, corpus: list[dict], queries: dict[str, str], qrels: dict[str, dict[str, int]]) -> None:
    (out / "qrels").mkdir(parents=True, exist_ok=True)
    (out / "corpus.jsonl").write_text("".join(json.dumps(doc) + "\n" for doc in corpus))
    (out / "queries.jsonl").write_text("".join(json.dumps({"_id": q, "text": t}) + "\n" for q, t in queries.items()))
    rows = [f"{q}\t{doc}\t{score}" for q, judged in qrels.items() for doc, score in judged.items()]
    (out / "qrels" / "test.tsv").write_text("query-id\tcorpus-id\tscore\n" + "\n".join(rows) + "\n")
    print(f"{out}: {len(corpus)} sections, {len(queries)} queries")


def main() -> None:
    out = Path(sys.argv[1] if len(sys.argv) > 1 else ".artifacts/datasets")
    write(out / "node-api", *build_node_api())
    write(out / "unix-faq", *build_unix_faq())
    write(out / "manuals", *build_manuals())


if __name__ == "__main__":
    main()
