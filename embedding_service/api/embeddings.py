from fastapi import APIRouter

from common.auth import CurrentTenant
from common.service import AppDeps
from embedding_service.models.embeddings import OpenAIEmbedding, OpenAIEmbeddingsRequest, OpenAIEmbeddingsResponse

router = APIRouter(prefix="/api/v1", tags=["embeddings"])


@router.post("/embeddings")
async def create_embeddings(
    body: OpenAIEmbeddingsRequest, tenant: CurrentTenant, deps: AppDeps
) -> OpenAIEmbeddingsResponse:
    """OpenAI-compatible: `{"input": "text" | ["texts"], "model": ...}`."""
    texts = [body.input] if isinstance(body.input, str) else body.input
    result = await deps.embeddings.generate(texts, body.model)  # type: ignore[attr-defined]
    return OpenAIEmbeddingsResponse(
        data=[OpenAIEmbedding(index=i, embedding=vector) for i, vector in enumerate(result.embeddings)],
        model=result.model,
        usage=result.usage,
    )
