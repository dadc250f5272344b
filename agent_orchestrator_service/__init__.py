"""Nooble4 orchestrator service: chat sessions, WebSocket fan-out, edge auth and rate limits."""
