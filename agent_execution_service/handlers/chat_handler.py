from typing import Any

from agent_execution_service.deps import ExecutionDeps
from agent_execution_service.models.chat import CancelRequest, ChatRunRequest
from agent_execution_service.services.chat_turn import run_turn
from agent_execution_service.services.turn_events import request_cancel
from common.models.actions import DomainAction
from common.workers.router import ActionRouter

router: ActionRouter[ExecutionDeps] = ActionRouter()


@router.handle("execution.chat.run", ChatRunRequest)
async def chat_run(action: DomainAction, req: ChatRunRequest, deps: ExecutionDeps) -> dict[str, Any]:
    return await run_turn(action, req, deps)


@router.handle("execution.task.cancel", CancelRequest)
async def cancel(action: DomainAction, req: CancelRequest, deps: ExecutionDeps) -> dict[str, bool]:
    await request_cancel(deps.redis, deps.queues, req.task_id)
    return {"cancel_requested": True}
