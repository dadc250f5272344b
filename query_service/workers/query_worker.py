from common.workers.base_worker import BaseWorker


class QueryWorker(BaseWorker):
    """Consumes the `query` tier streams; routing only.

    Handlers are registered in `query_service.handlers`.
    """
