"""Action handlers of the embedding service, registered on `router`."""

from common.workers.router import ActionRouter
from embedding_service.deps import EmbeddingDeps
from embedding_service.handlers import embedding_handler

router: ActionRouter[EmbeddingDeps] = ActionRouter()
router.include(embedding_handler.router)
