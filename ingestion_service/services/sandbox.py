"""Extraction and chunking of untrusted files in a child process, off the service's event loop.

Each document is read in its own short-lived process, forked from a forkserver that has the parsers
imported already (so a start costs milliseconds), with an address-space cap and a time budget: a zip
bomb, a pathological PDF or a parser crash kills that child only. The REST API, `/ready`, callbacks and
lease renewal keep running, and the document fails with a reason instead of stalling the service.
"""

from __future__ import annotations

import asyncio
import multiprocessing
import resource
from dataclasses import dataclass
from multiprocessing.connection import Connection
from typing import Any

from common.errors import ValidationError
from ingestion_service.services.chunking import Chunk, chunk
from ingestion_service.services.extract import ExtractionLimits, extract

_PRELOAD = ["ingestion_service.services.chunking", "pypdf", "docx", "bs4", "langchain_text_splitters"]
_context = multiprocessing.get_context("forkserver")
_context.set_forkserver_preload(_PRELOAD)


@dataclass(frozen=True)
class SandboxLimits:
    extraction: ExtractionLimits
    time_budget_s: float = 120.0
    memory_mb: int = 2_048


def _child(raw: bytes, kind: str, chunk_size: int, overlap: int, limits: SandboxLimits, out: Connection) -> None:
    cap = limits.memory_mb * 1024 * 1024
    resource.setrlimit(resource.RLIMIT_AS, (cap, cap))
    result: tuple[str, Any]
    try:
        result = ("ok", chunk(extract(raw, kind, limits.extraction), chunk_size, overlap))
    except ValidationError as exc:
        result = ("refused", (exc.code, exc.message))
    except MemoryError:
        result = ("refused", ("too_large", f"reading the document needs more than {limits.memory_mb} MB"))
    except RecursionError:
        result = ("refused", ("too_deep", "the document nests too deeply to be read"))
    except Exception as exc:  # a parser bug on a hostile file is that file's problem
        result = ("refused", ("corrupt_file", f"the document cannot be read: {type(exc).__name__}: {exc}"[:500]))
    out.send(result)
    out.close()


def _run(raw: bytes, kind: str, chunk_size: int, overlap: int, limits: SandboxLimits) -> list[Chunk]:
    receiver, sender = _context.Pipe(duplex=False)
    process = _context.Process(
        target=_child, args=(raw, kind, chunk_size, overlap, limits, sender), daemon=True, name="nooble4-extract"
    )
    process.start()
    sender.close()
    try:
        if not receiver.poll(limits.time_budget_s):
            raise ValidationError(
                f"reading the document took longer than its time budget of {limits.time_budget_s:g} s",
                code="extraction_timeout",
            )
        try:
            status, value = receiver.recv()
        except EOFError:  # killed: out of memory past the cap, or a crash in a C extension
            process.join(5)
            raise ValidationError(
                f"reading the document crashed its reader (exit {process.exitcode}); the file may be hostile",
                code="extraction_crashed",
            ) from None
    finally:
        receiver.close()
        if process.is_alive():
            process.kill()
        process.join(5)
    if status == "refused":
        code, message = value
        raise ValidationError(message, code=code)
    chunks: list[Chunk] = value
    return chunks


# Plain text formats read in linear time by our own code: small ones skip the child process (its start costs
# more than reading them), in a worker thread, still off the event loop. Parsers of binary or nested formats
# (PDF, DOCX, HTML, JSON) always run in the child.
INLINE_KINDS = frozenset({"txt", "md", "csv"})
INLINE_MAX_BYTES = 256 * 1024


def _inline(raw: bytes, kind: str, chunk_size: int, overlap: int, limits: SandboxLimits) -> list[Chunk]:
    return chunk(extract(raw, kind, limits.extraction), chunk_size, overlap)


async def extract_chunks(raw: bytes, kind: str, chunk_size: int, overlap: int, limits: SandboxLimits) -> list[Chunk]:
    """The document's chunks, or a `ValidationError` saying why it cannot be read."""
    read = _inline if kind in INLINE_KINDS and len(raw) <= INLINE_MAX_BYTES else _run
    return await asyncio.to_thread(read, raw, kind, chunk_size, overlap, limits)
