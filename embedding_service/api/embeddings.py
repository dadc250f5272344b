from fastapi import APIRouter

from common.policy import RateLimitedTenant
from embedding_service.deps import EmbeddingAppDeps
from embedding_service.models.embeddings import OpenAIEmbedding, OpenAIEmbeddingsRequest, OpenAIEmbeddingsResponse

router = APIRouter(prefix="/api/v1", tags=["embeddings"])


@router.post("/embeddings")
async def create_embeddings(
    body: OpenAIEmbeddingsRequest, tenant: RateLimitedTenant, deps: EmbeddingAppDeps
) -> OpenAIEmbeddingsResponse:
    """Create embeddings (OpenAI-compatible).

    `{"input": "text" | ["texts"], "model": ...}`; the model must be allowed for the tenant's tier, and each
    call counts against the tenant's request limits."""
    texts = [body.input] if isinstance(body.input, str) else body.input
    result = await deps.embeddings.generate(tenant.tenant_id, tenant.tier, texts, body.model)
    return OpenAIEmbeddingsResponse(
        data=[OpenAIEmbedding(index=i, embedding=vector) for i, vector in enumerate(result.embeddings)],
        model=result.model,
        usage=result.usage,
    )
