from agent_management_service.deps import ManagementDeps
from common.contracts import management
from common.contracts.management import UsageRecord
from common.models.actions import DomainAction
from common.workers.router import ActionRouter

router: ActionRouter[ManagementDeps] = ActionRouter()


@router.handle(management.RECORD_USAGE)
async def record_usage(action: DomainAction, req: UsageRecord, deps: ManagementDeps) -> None:
    """Acknowledged once written: a record is never lost between the stream and the ledger."""
    await deps.ledger.record(action.tenant_id, req)
