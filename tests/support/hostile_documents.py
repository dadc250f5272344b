"""Hostile and awkward documents, built in the test (no binary fixtures from elsewhere): what users and
attackers actually upload. Each entry: file name, bytes, and the outcome expected ("ready" or a failure code)."""

from __future__ import annotations

import io
import os
import zipfile

from tests.support.documents import docx, pdf


def pdf_with_nul_bytes() -> bytes:
    """A PDF whose extracted text holds NUL bytes (as pypdf gives for some real papers' ligatures)."""
    return pdf(["Attention is all you need\x00 with NUL\x00 bytes in the text layer."])


def image_only_pdf() -> bytes:
    """A PDF page with no text operators at all (a scanned page without OCR)."""
    return pdf([""])


def truncated_docx() -> bytes:
    whole = docx("Truncated", ["This document is cut in the middle of its XML."])
    source = zipfile.ZipFile(io.BytesIO(whole))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as target:
        for item in source.infolist():
            data = source.read(item.filename)
            target.writestr(item, data[: len(data) // 2] if item.filename == "word/document.xml" else data)
    return out.getvalue()


def docx_zip_bomb(unpacked_mb: int = 600) -> bytes:
    """A real DOCX whose document.xml unpacks to `unpacked_mb` MB (a few hundred KB on the wire)."""
    whole = docx("Bomb", ["x"])
    source = zipfile.ZipFile(io.BytesIO(whole))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as target:
        for item in source.infolist():
            if item.filename != "word/document.xml":
                target.writestr(item, source.read(item.filename))
        with target.open("word/document.xml", "w", force_zip64=True) as xml:
            xml.write(
                b'<?xml version="1.0"?><w:document xmlns:w="http://schemas.openxmlformats.org/'
                b'wordprocessingml/2006/main"><w:body><w:p><w:r><w:t>'
            )
            block = b"A" * (1024 * 1024)
            for _ in range(unpacked_mb):
                xml.write(block)
            xml.write(b"</w:t></w:r></w:p></w:body></w:document>")
    return out.getvalue()


def deep_json(depth: int = 50_000) -> bytes:
    return b"[" * depth + b"1" + b"]" * depth


CORPUS: list[tuple[str, bytes, str]] = [
    ("nul.pdf", pdf_with_nul_bytes(), "ready"),
    ("scan.pdf", image_only_pdf(), "no_text"),
    ("random.pdf", os.urandom(64 * 1024), "corrupt_file"),
    ("truncated.docx", truncated_docx(), "corrupt_file"),
    ("deep.json", deep_json(), "too_deep"),
    ("bom-crlf.txt", "\ufeffCaf\u00e9 menu\r\nline two\r\n".encode(), "ready"),
    ("latin1.txt", "Cr\u00e8me br\u00fbl\u00e9e \u00e0 la carte, na\u00efve fa\u00e7ade.".encode("latin-1"), "ready"),
    (
        "script.html",
        b"<html><head><style>p{}</style><script>alert(1)</script></head><body><p>Visible text.</p>"
        b"<script>document.write('hidden')</script></body></html>",
        "ready",
    ),
    ("one-line.txt", b"word " * 4_000_000, "document_too_long"),  # 20 MB on a single line
    ("empty.txt", b"", "empty_document"),
    ("blank.md", b"   \n\n  \t\n", "empty_document"),
]
