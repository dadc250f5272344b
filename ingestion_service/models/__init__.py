"""Typed `data` payloads of the ingestion actions and REST bodies."""
