"""Small real documents of every supported type, built in the test (PDF and DOCX with real writers' formats)."""

from __future__ import annotations

import io
import json


def pdf(pages: list[str]) -> bytes:
    """A valid PDF with one text line per page (Helvetica), written by hand: xref offsets included."""
    objects: list[bytes] = [b"<< /Type /Catalog /Pages 2 0 R >>"]
    kids = " ".join(f"{3 + 2 * i} 0 R" for i in range(len(pages)))
    objects.append(f"<< /Type /Pages /Kids [{kids}] /Count {len(pages)} >>".encode())
    font_ref = 3 + 2 * len(pages)
    for i, text in enumerate(pages):
        safe = text.replace("\\", "\\\\").replace("(", "\\(").replace(")", "\\)")
        stream = f"BT /F1 12 Tf 72 720 Td ({safe}) Tj ET".encode()
        objects.append(
            f"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents {4 + 2 * i} 0 R "
            f"/Resources << /Font << /F1 {font_ref} 0 R >> >> >>".encode()
        )
        objects.append(b"<< /Length %d >>\nstream\n%s\nendstream" % (len(stream), stream))
    objects.append(b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>")
    out = bytearray(b"%PDF-1.4\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += b"%d 0 obj\n%s\nendobj\n" % (number, body)
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    out += b"".join(b"%010d 00000 n \n" % offset for offset in offsets)
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (len(objects) + 1, xref)
    return bytes(out)


def docx(heading: str, paragraphs: list[str]) -> bytes:
    from docx import Document

    document = Document()
    document.add_heading(heading, level=1)
    for paragraph in paragraphs:
        document.add_paragraph(paragraph)
    buffer = io.BytesIO()
    document.save(buffer)
    return buffer.getvalue()


def every_type(marker: str) -> dict[str, bytes]:
    """One document per supported type, each holding the phrase `<marker> <type>` to search for."""
    return {
        "notes.txt": f"Plain notes. The phrase {marker} txt lives in a text file.".encode(),
        "guide.md": f"# Guide\n\nIntro.\n\n## Details\n\nThe phrase {marker} md lives under a heading.".encode(),
        "page.html": (
            f"<html><head><title>Page</title><script>var x = 1;</script></head>"
            f"<body><h1>Welcome</h1><p>The phrase {marker} html lives in a paragraph.</p></body></html>"
        ).encode(),
        "report.pdf": pdf(["Cover page of the report.", f"The phrase {marker} pdf lives on page two."]),
        "memo.docx": docx("Memo", [f"The phrase {marker} docx lives in a Word document."]),
        "table.csv": f"name,note\nalpha,The phrase {marker} csv lives in a row\nbeta,other\n".encode(),
        "data.json": json.dumps({"items": [{"note": f"The phrase {marker} json lives in a value"}]}).encode(),
    }
