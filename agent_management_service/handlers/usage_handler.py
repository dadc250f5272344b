from agent_management_service.deps import ManagementDeps
from common.contracts import management
from common.contracts.management import UsageKind, UsageRecord, WebhookEvent, WebhookEventType
from common.models.actions import DomainAction
from common.workers.router import ActionRouter

router: ActionRouter[ManagementDeps] = ActionRouter()


@router.handle(management.RECORD_USAGE)
async def record_usage(action: DomainAction, req: UsageRecord, deps: ManagementDeps) -> None:
    """Acknowledged once written: a record is never lost between the stream and the ledger. A chat turn's record
    is also the tenant's `conversation.turn_completed` event (its webhooks)."""
    await deps.ledger.record(action.tenant_id, req)
    if req.kind == UsageKind.CHAT and req.task_id:
        event = WebhookEvent(
            event_type=WebhookEventType.TURN_COMPLETED,
            event_id=f"turn:{req.task_id}",
            occurred_at=req.occurred_at,
            data={
                "task_id": req.task_id,
                "agent_id": req.agent_id,
                "conversation_id": req.conversation_id,
                "end_user_id": req.end_user_id,
                "outcome": req.outcome,
                "prompt_tokens": req.prompt_tokens,
                "completion_tokens": req.completion_tokens,
            },
        )
        await deps.webhooks.dispatch(action, event)
