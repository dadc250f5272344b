from agent_execution_service.deps import ExecutionDeps
from agent_execution_service.services.chat_turn import run_turn
from agent_execution_service.services.turn_events import request_cancel
from common.contracts import execution
from common.contracts.execution import CancelRequest, ChatRunRequest
from common.models.actions import DomainAction
from common.workers.router import ActionRouter

router: ActionRouter[ExecutionDeps] = ActionRouter()


@router.handle(execution.RUN_CHAT)
async def chat_run(action: DomainAction, req: ChatRunRequest, deps: ExecutionDeps) -> None:
    await run_turn(action, req, deps)


@router.handle(execution.CANCEL_TASK)
async def cancel(action: DomainAction, req: CancelRequest, deps: ExecutionDeps) -> None:
    await request_cancel(deps.redis, deps.queues, req.task_id)
