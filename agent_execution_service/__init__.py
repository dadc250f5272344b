"""Nooble4 execution service: running an agent turn: history, RAG tool, LLM, streaming, tools."""
