from common.workers.base_worker import BaseWorker


class OrchestratorWorker(BaseWorker):
    """Consumes the `orchestrator` tier streams; routing only.

    Handlers are registered in `agent_orchestrator_service.handlers`.
    """
