from common.workers.base_worker import BaseWorker


class ConversationWorker(BaseWorker):
    """Consumes the `conversation` tier streams; routing only.

    Handlers are registered in `conversation_service.handlers`.
    """
