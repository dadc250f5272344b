"""Nooble4 ingestion service: collections, documents, extraction, chunking, indexing, progress."""
