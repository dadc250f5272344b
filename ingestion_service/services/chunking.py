"""Token-aware recursive chunking (langchain-text-splitters) that keeps each chunk's page and heading."""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

from langchain_text_splitters import RecursiveCharacterTextSplitter

from common.tokens import count_tokens
from ingestion_service.services.extract import Extracted


@dataclass
class Chunk:
    position: int
    content: str
    page: int | None
    heading: str | None
    token_count: int


@lru_cache(maxsize=32)
def _splitter(chunk_size: int, chunk_overlap: int) -> RecursiveCharacterTextSplitter:
    return RecursiveCharacterTextSplitter(
        chunk_size=chunk_size, chunk_overlap=chunk_overlap, length_function=count_tokens
    )


def chunk(extracted: Extracted, chunk_size: int, chunk_overlap: int) -> list[Chunk]:
    splitter = _splitter(chunk_size, chunk_overlap)
    chunks: list[Chunk] = []
    for section in extracted.sections:
        for piece in splitter.split_text(section.text):
            if piece.strip():
                chunks.append(Chunk(len(chunks), piece, section.page, section.heading, count_tokens(piece)))
    return chunks
