"""Domain logic of the ingestion service."""
