"""Typed `data` payloads of the management actions and REST bodies."""
