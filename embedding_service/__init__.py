"""Nooble4 embedding service: text to vectors: batching, caching, providers."""
