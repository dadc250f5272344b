"""Text out of uploaded files: txt, md, html, pdf, docx, csv, json. Each section keeps its page or heading."""

from __future__ import annotations

import csv
import io
import json
import re
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
    return raw.decode("utf-8", errors="replace").replace("\x00", "")


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


def _pdf(raw: bytes) -> Extracted:
    from pypdf import PdfReader
    from pypdf.errors import PyPdfError

    try:
        reader = PdfReader(io.BytesIO(raw), strict=False)
        pages = [(number, page.extract_text() or "") for number, page in enumerate(reader.pages, start=1)]
        title = reader.metadata.title if reader.metadata else None
    except (PyPdfError, ValueError, KeyError, TypeError, OSError) as exc:
        raise ValidationError(f"the PDF cannot be read: {exc}", code="corrupt_file") from None
    return Extracted([Section(text, page=number) for number, text in pages if text.strip()], title)


def _docx(raw: bytes) -> Extracted:
    import zipfile

    from docx import Document
    from docx.opc.exceptions import PackageNotFoundError

    try:
        document = Document(io.BytesIO(raw))
    except (PackageNotFoundError, zipfile.BadZipFile, KeyError, ValueError) as exc:
        raise ValidationError(f"the DOCX file cannot be read: {exc}", code="corrupt_file") from None
    sections: list[Section] = []
    heading: str | None = None
    buffer: list[str] = []
    for paragraph in document.paragraphs:
        text = paragraph.text.strip()
        if not text:
            continue
        if (paragraph.style.name or "").lower().startswith(("heading", "title")):
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


def _json(raw: bytes) -> Extracted:
    try:
        doc = json.loads(_text(raw))
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


_EXTRACTORS = {
    "txt": lambda raw: Extracted([Section(_text(raw))]),
    "md": _markdown,
    "html": _html,
    "pdf": _pdf,
    "docx": _docx,
    "csv": _csv,
    "json": _json,
}


def extract(raw: bytes, kind: str) -> Extracted:
    extracted = _EXTRACTORS[kind](raw)
    extracted.sections = [s for s in extracted.sections if s.text.strip()]
    if not extracted.sections:
        raise ValidationError("the document contains no text", code="empty_document")
    return extracted
