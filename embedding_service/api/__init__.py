"""REST routers of the embedding service."""

from fastapi import APIRouter

from embedding_service.api import embeddings

routers: list[APIRouter] = [embeddings.router]
