"""Typed `data` payloads of the conversation actions and REST bodies."""
