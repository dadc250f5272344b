from common.workers.base_worker import BaseWorker


class ExecutionWorker(BaseWorker):
    """Consumes the `execution` tier streams; routing only.

    Handlers are registered in `agent_execution_service.handlers`.
    """
