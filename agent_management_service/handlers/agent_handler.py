from agent_management_service.deps import ManagementDeps
from agent_management_service.services.agent_config import load_agent_config
from agent_management_service.services.agents import list_agents
from common.contracts import management
from common.contracts.management import AgentConfig, AgentOut, GetConfigRequest, ListAgentsRequest
from common.models.actions import DomainAction
from common.models.pagination import Page
from common.stamps import agent_stamp_key, stamp_for_read
from common.workers.router import ActionRouter

router: ActionRouter[ManagementDeps] = ActionRouter()


@router.handle(management.GET_AGENT_CONFIG)
async def get_config(action: DomainAction, req: GetConfigRequest, deps: ManagementDeps) -> AgentConfig:
    stamp = await stamp_for_read(deps.redis, agent_stamp_key(deps.queues, action.tenant_id, req.agent_id))
    config = await load_agent_config(deps.engine, deps.mcp, action.tenant_id, action.tenant_tier, req.agent_id)
    return config.model_copy(update={"stamp": stamp})


@router.handle(management.LIST_AGENTS)
async def list_(action: DomainAction, req: ListAgentsRequest, deps: ManagementDeps) -> Page[AgentOut]:
    return await list_agents(deps.engine, action.tenant_id, req.limit, req.offset)
