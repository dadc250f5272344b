"""Typed `data` payloads of the query actions and REST bodies."""
