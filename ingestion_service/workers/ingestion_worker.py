from common.workers.base_worker import BaseWorker


class IngestionWorker(BaseWorker):
    """Consumes the `ingestion` tier streams; routing only.

    Handlers are registered in `ingestion_service.handlers`.
    """
