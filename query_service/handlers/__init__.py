"""Action handlers of the query service, registered on `router`."""

from common.workers.router import ActionRouter
from query_service.deps import QueryDeps
from query_service.handlers import search_handler

router: ActionRouter[QueryDeps] = ActionRouter()
router.include(search_handler.router)
