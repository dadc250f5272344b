"""Nooble4 query service: retrieval (hybrid vector + full text) and RAG answers with citations."""
