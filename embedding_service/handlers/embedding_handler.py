from common.contracts import embedding
from common.contracts.embedding import EmbedRequest, EmbedResult
from common.models.actions import DomainAction
from common.workers.router import ActionRouter
from embedding_service.deps import EmbeddingDeps

router: ActionRouter[EmbeddingDeps] = ActionRouter()


@router.handle(embedding.GENERATE)
async def generate(action: DomainAction, req: EmbedRequest, deps: EmbeddingDeps) -> EmbedResult:
    return await deps.embeddings.generate(
        action.tenant_id, action.tenant_tier, req.texts, req.model, req.priority, event_id=action.action_id
    )
