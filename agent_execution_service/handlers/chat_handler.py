from agent_execution_service.deps import ExecutionDeps
from agent_execution_service.services.chat_turn import run_turn
from agent_execution_service.services.memory import summarize
from agent_execution_service.services.turn_events import request_cancel
from common.contracts import execution
from common.contracts.execution import CancelRequest, ChatRunRequest, SummarizeRequest
from common.models.actions import DomainAction
from common.workers.router import ActionRouter

router: ActionRouter[ExecutionDeps] = ActionRouter()


@router.handle(execution.RUN_CHAT)
async def chat_run(action: DomainAction, req: ChatRunRequest, deps: ExecutionDeps) -> None:
    await run_turn(action, req, deps)


@router.handle(execution.CANCEL_TASK)
async def cancel(action: DomainAction, req: CancelRequest, deps: ExecutionDeps) -> None:
    await request_cancel(deps.redis, deps.queues, req.task_id)


@router.handle(execution.SUMMARIZE)
async def summarize_memory(action: DomainAction, req: SummarizeRequest, deps: ExecutionDeps) -> None:
    await summarize(action, req, deps)
