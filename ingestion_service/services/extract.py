"""Text out of uploaded files: txt, md, html, pdf, docx, csv, json. Each section keeps its page or heading."""

from __future__ import annotations

import csv
import io
import json
import re
from collections.abc import Callable
from dataclasses import dataclass

from bs4 import BeautifulSoup

from common.errors import ValidationError

CONTENT_TYPES = {
    "txt": "text/plain",
    "md": "text/markdown",
    "html": "text/html",
    "pdf": "application/pdf",
    "docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    "csv": "text/csv",
    "json": "application/json",
}
_BY_MIME = {mime: kind for kind, mime in CONTENT_TYPES.items()} | {
    "text/x-markdown": "md",
    "application/xhtml+xml": "html",
}
_MD_HEADING = re.compile(r"^(#{1,6})\s+(.+?)\s*#*\s*$")


@dataclass(frozen=True)
class ExtractionLimits:
    """What one document may cost to read (README, "Limits"); exceeding one fails the document with a reason."""

    max_chars: int = 5_000_000  # of extracted text
    max_pages: int = 2_000  # PDF
    max_uncompressed_bytes: int = 256 * 1024 * 1024  # ZIP-based formats (DOCX), all entries together
    max_zip_entries: int = 10_000
    max_json_depth: int = 200


# Control characters PostgreSQL or the models cannot take (NUL) or that carry no text; \t \n \r stay.
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


# Typographic ligatures (PDF text is full of them): "ﬁles" would match neither a search for "files" nor its stem.
_LIGATURES = str.maketrans(
    {"\ufb00": "ff", "\ufb01": "fi", "\ufb02": "fl", "\ufb03": "ffi", "\ufb04": "ffl", "\ufb05": "st", "\ufb06": "st"}
)


def clean_text(text: str) -> str:
    """Text any store can hold and search can match: no NUL or other control characters, no lone surrogates, no
    ligatures."""
    text = _CONTROL.sub("", text).translate(_LIGATURES)
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        text = text.encode("utf-8", errors="replace").decode("utf-8")
    return text


@dataclass
class Section:
    text: str
    page: int | None = None
    heading: str | None = None


@dataclass
class Extracted:
    sections: list[Section]
    title: str | None = None


def detect_kind(filename: str | None, content_type: str | None) -> str:
    """The file kind from its extension, else its MIME type; unsupported kinds are a clear error."""
    extension = (filename or "").rsplit(".", 1)[-1].lower() if filename and "." in filename else ""
    if extension == "htm":
        extension = "html"
    if extension == "markdown":
        extension = "md"
    if extension in CONTENT_TYPES:
        return extension
    mime = (content_type or "").split(";")[0].strip().lower()
    if mime in _BY_MIME:
        return _BY_MIME[mime]
    raise ValidationError(
        f"unsupported file type {extension or mime or 'unknown'!r}; supported: {', '.join(CONTENT_TYPES)}",
        code="unsupported_file_type",
    )


def _text(raw: bytes) -> str:
    """UTF-8 (with or without BOM), else Latin-1 for legacy files; CRLF and CR line ends become LF."""
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        text = raw.decode("latin-1") if _looks_latin1(raw) else raw.decode("utf-8", errors="replace")
    return text.replace("\r\n", "\n").replace("\r", "\n")


def _looks_latin1(raw: bytes) -> bool:
    """Mostly printable once read as Latin-1 (binary junk is not)."""
    sample = raw[:65_536]
    printable = sum(1 for b in sample if b >= 0x20 or b in b"\t\n\r")
    return printable >= 0.95 * len(sample)


def _markdown(raw: bytes) -> Extracted:
    sections: list[Section] = []
    heading: str | None = None
    title: str | None = None
    lines: list[str] = []
    for line in _text(raw).splitlines():
        if match := _MD_HEADING.match(line):
            if any(part.strip() for part in lines):
                sections.append(Section("\n".join(lines).strip(), heading=heading))
            heading, lines = match.group(2), [line]
            title = title or heading
        else:
            lines.append(line)
    if any(part.strip() for part in lines):
        sections.append(Section("\n".join(lines).strip(), heading=heading))
    return Extracted(sections, title)


def _html(raw: bytes) -> Extracted:
    soup = BeautifulSoup(raw, "html.parser")
    for tag in soup(["script", "style", "noscript", "template"]):
        tag.decompose()
    title = soup.title.get_text(strip=True) if soup.title else None
    sections: list[Section] = []
    heading: str | None = None
    buffer: list[str] = []
    body = soup.body or soup
    for element in body.find_all(["h1", "h2", "h3", "h4", "h5", "h6", "p", "li", "pre", "td", "blockquote"]):
        text = element.get_text(" ", strip=True)
        if not text:
            continue
        if element.name.startswith("h"):
            if buffer:
                sections.append(Section("\n".join(buffer), heading=heading))
            heading, buffer = text, [text]
        elif not element.find_parent(["li", "td", "blockquote"]) or element.name in {"li", "td"}:
            buffer.append(text)
    if buffer:
        sections.append(Section("\n".join(buffer), heading=heading))
    if not sections:  # no structure: all visible text
        text = body.get_text("\n", strip=True)
        sections = [Section(text)] if text else []
    return Extracted(sections, title)


def _pdf(raw: bytes, limits: ExtractionLimits) -> Extracted:
    from pypdf import PdfReader
    from pypdf.errors import PyPdfError

    try:
        reader = PdfReader(io.BytesIO(raw), strict=False)
        if len(reader.pages) > limits.max_pages:
            raise ValidationError(
                f"the PDF has {len(reader.pages)} pages; the limit is {limits.max_pages}", code="too_many_pages"
            )
        pages = [(number, page.extract_text() or "") for number, page in enumerate(reader.pages, start=1)]
        title = reader.metadata.title if reader.metadata else None
    except (PyPdfError, ValueError, KeyError, TypeError, OSError, AttributeError, IndexError) as exc:
        if isinstance(exc, ValidationError):
            raise
        raise ValidationError(f"the PDF cannot be read: {exc}", code="corrupt_file") from None
    sections = [Section(text, page=number) for number, text in pages if text.strip()]
    if not sections and pages:
        raise ValidationError("the PDF has no text layer (scanned images?); OCR is not supported", code="no_text")
    return Extracted(sections, title if isinstance(title, str) else None)


def _docx(raw: bytes, limits: ExtractionLimits) -> Extracted:
    import zipfile

    from docx import Document
    from docx.opc.exceptions import PackageNotFoundError

    try:
        entries = zipfile.ZipFile(io.BytesIO(raw)).infolist()
    except (zipfile.BadZipFile, ValueError, OSError) as exc:
        raise ValidationError(f"the DOCX file cannot be read: {exc}", code="corrupt_file") from None
    if len(entries) > limits.max_zip_entries:
        raise ValidationError(
            f"the DOCX file holds {len(entries)} entries; the limit is {limits.max_zip_entries}", code="zip_bomb"
        )
    unpacked = sum(entry.file_size for entry in entries)
    if unpacked > limits.max_uncompressed_bytes:
        raise ValidationError(
            f"the DOCX file unpacks to {unpacked:,} bytes; the limit is {limits.max_uncompressed_bytes:,}",
            code="zip_bomb",
        )
    try:
        document = Document(io.BytesIO(raw))
    except (PackageNotFoundError, zipfile.BadZipFile, KeyError, ValueError, SyntaxError, OSError) as exc:
        # lxml's XMLSyntaxError is a SyntaxError: truncated or malformed XML inside the package
        raise ValidationError(f"the DOCX file cannot be read: {exc}", code="corrupt_file") from None
    sections: list[Section] = []
    heading: str | None = None
    buffer: list[str] = []
    for paragraph in document.paragraphs:
        text = paragraph.text.strip()
        if not text:
            continue
        if (paragraph.style.name if paragraph.style else "").lower().startswith(("heading", "title")):
            if buffer:
                sections.append(Section("\n".join(buffer), heading=heading))
            heading, buffer = text, [text]
        else:
            buffer.append(text)
    for table in document.tables:
        for row in table.rows:
            buffer.append(" | ".join(cell.text.strip() for cell in row.cells))
    if buffer:
        sections.append(Section("\n".join(buffer), heading=heading))
    return Extracted(sections, document.core_properties.title or None)


def _csv(raw: bytes) -> Extracted:
    text = _text(raw)
    try:
        rows = list(csv.DictReader(io.StringIO(text)))
    except csv.Error as exc:
        raise ValidationError(f"the CSV file cannot be read: {exc}", code="corrupt_file") from None
    lines = ["; ".join(f"{key}: {value}" for key, value in row.items() if key and value) for row in rows]
    return Extracted([Section("\n".join(line for line in lines if line))] if lines else [])


def _json(raw: bytes, limits: ExtractionLimits) -> Extracted:
    text = _text(raw)
    too_deep = ValidationError(f"the JSON file nests deeper than {limits.max_json_depth} levels", code="too_deep")
    if _max_nesting(text) > limits.max_json_depth:
        raise too_deep
    try:
        doc = json.loads(text)
    except RecursionError:
        raise too_deep from None
    except ValueError as exc:
        raise ValidationError(f"the JSON file cannot be read: {exc}", code="corrupt_file") from None
    lines: list[str] = []

    def walk(value: object, path: str) -> None:
        if isinstance(value, dict):
            for key, item in value.items():
                walk(item, f"{path}.{key}" if path else str(key))
        elif isinstance(value, list):
            for index, item in enumerate(value):
                walk(item, f"{path}[{index}]")
        elif value is not None:
            lines.append(f"{path}: {value}")

    walk(doc, "")
    return Extracted([Section("\n".join(lines))] if lines else [])


def _max_nesting(text: str) -> int:
    """How deep brackets nest outside strings (checked before parsing, so a 50k-deep file costs one scan)."""
    depth = deepest = 0
    in_string = escaped = False
    for char in text:
        if in_string:
            if escaped:
                escaped = False
            elif char == "\\":
                escaped = True
            elif char == '"':
                in_string = False
        elif char == '"':
            in_string = True
        elif char in "[{":
            depth += 1
            deepest = max(deepest, depth)
        elif char in "]}":
            depth -= 1
    return deepest


_EXTRACTORS: dict[str, Callable[[bytes, ExtractionLimits], Extracted]] = {
    "txt": lambda raw, _: Extracted([Section(_text(raw))]),
    "md": lambda raw, _: _markdown(raw),
    "html": lambda raw, _: _html(raw),
    "pdf": _pdf,
    "docx": _docx,
    "csv": lambda raw, _: _csv(raw),
    "json": _json,
}


def extract(raw: bytes, kind: str, limits: ExtractionLimits | None = None) -> Extracted:
    """Sections of text, cleaned of what no store can hold; a clear `ValidationError` when there are none
    or a limit is exceeded. Run it through `ingestion_service.services.sandbox` for untrusted files."""
    limits = limits or ExtractionLimits()
    if kind not in _EXTRACTORS:
        raise ValidationError(f"unsupported file type {kind!r}", code="unsupported_file_type")
    extracted = _EXTRACTORS[kind](raw, limits)
    for section in extracted.sections:
        section.text = clean_text(section.text)
        section.heading = clean_text(section.heading) if section.heading else None
    extracted.title = clean_text(extracted.title) if extracted.title else None
    extracted.sections = [s for s in extracted.sections if s.text.strip()]
    if not extracted.sections:
        raise ValidationError("the document contains no text", code="empty_document")
    total = sum(len(s.text) for s in extracted.sections)
    if total > limits.max_chars:
        raise ValidationError(
            f"the document holds {total:,} characters of text; the limit is {limits.max_chars:,}",
            code="document_too_long",
        )
    return extracted
