from fastapi import APIRouter, Request

from common.auth import CurrentTenant
from query_service.handlers.search_handler import generate_answer, search_chunks
from query_service.models.search import GenerateRequest, GenerateResult, SearchRequest, SearchResult

router = APIRouter(prefix="/api/v1/query", tags=["query"])


def _action(request: Request, tenant: CurrentTenant, action_type: str):
    """The REST call as an action of the tenant, so it runs the same handler as the Redis one."""
    return request.app.state.deps.embedding.new_action(action_type, tenant_id=tenant.tenant_id, tenant_tier=tenant.tier)


@router.post("/search")
async def search(body: SearchRequest, tenant: CurrentTenant, request: Request) -> SearchResult:
    return await search_chunks(_action(request, tenant, "query.search"), body, request.app.state.deps)


@router.post("/generate")
async def generate(body: GenerateRequest, tenant: CurrentTenant, request: Request) -> GenerateResult:
    return await generate_answer(_action(request, tenant, "query.generate"), body, request.app.state.deps)
