"""Action handlers of the query service, registered on `router`."""

from common.workers.router import ActionRouter
from query_service.handlers import search_handler

router = ActionRouter()
router.include(search_handler.router)
