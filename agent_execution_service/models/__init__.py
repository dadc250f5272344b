"""Typed `data` payloads of the execution actions and REST bodies."""
