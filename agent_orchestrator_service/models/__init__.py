"""Typed `data` payloads of the orchestrator actions and REST bodies."""
