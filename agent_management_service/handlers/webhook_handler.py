from agent_management_service.deps import ManagementDeps
from common.contracts import management
from common.contracts.management import DeliverWebhook, WebhookEvent
from common.models.actions import DomainAction
from common.workers.router import ActionRouter

router: ActionRouter[ManagementDeps] = ActionRouter()


@router.handle(management.DISPATCH_WEBHOOK)
async def dispatch(action: DomainAction, req: WebhookEvent, deps: ManagementDeps) -> None:
    await deps.webhooks.dispatch(action, req)


@router.handle(management.DELIVER_WEBHOOK)
async def deliver(action: DomainAction, req: DeliverWebhook, deps: ManagementDeps) -> None:
    await deps.webhooks.deliver(action, req.delivery_id)
