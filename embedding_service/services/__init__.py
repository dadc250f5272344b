"""Domain logic of the embedding service."""
