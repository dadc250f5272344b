from agent_management_service.deps import ManagementDeps
from agent_management_service.services import end_users
from agent_management_service.services.tenants import resolve_key, resolve_tenant
from common.contracts import management
from common.contracts.management import (
    ResolvedEndUserToken,
    ResolvedTenant,
    ResolveEndUserTokenRequest,
    ResolveKeyRequest,
    ResolveTenantRequest,
)
from common.models.actions import DomainAction
from common.workers.router import ActionRouter

router: ActionRouter[ManagementDeps] = ActionRouter()


@router.handle(management.RESOLVE_KEY)
async def resolve(action: DomainAction, req: ResolveKeyRequest, deps: ManagementDeps) -> ResolvedTenant:
    return await resolve_key(deps.engine, req.key_hash)


@router.handle(management.RESOLVE_TENANT)
async def resolve_by_id(action: DomainAction, req: ResolveTenantRequest, deps: ManagementDeps) -> ResolvedTenant:
    return await resolve_tenant(deps.engine, req.tenant_id)


@router.handle(management.RESOLVE_END_USER_TOKEN)
async def resolve_end_user_token(
    action: DomainAction, req: ResolveEndUserTokenRequest, deps: ManagementDeps
) -> ResolvedEndUserToken:
    return await end_users.resolve(deps.engine, req.token_hash)
