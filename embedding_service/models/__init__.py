"""Typed `data` payloads of the embedding actions and REST bodies."""
