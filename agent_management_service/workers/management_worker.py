from common.workers.base_worker import BaseWorker


class ManagementWorker(BaseWorker):
    """Consumes the `management` tier streams; routing only.

    Handlers are registered in `agent_management_service.handlers`.
    """
