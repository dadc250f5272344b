from common.workers.base_worker import BaseWorker


class EmbeddingWorker(BaseWorker):
    """Consumes the `embedding` tier streams; routing only.

    Handlers are registered in `embedding_service.handlers`.
    """
