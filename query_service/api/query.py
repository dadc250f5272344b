from typing import Any

from fastapi import APIRouter

from common.auth import TenantIdentity
from common.contracts import query
from common.contracts.contract import Contract, Req
from common.contracts.query import GenerateRequest, GenerateResult, SearchRequest, SearchResult
from common.models.actions import DomainAction
from common.policy import RateLimitedTenant
from query_service.deps import QueryAppDeps as Deps
from query_service.handlers.search_handler import generate_answer, search_chunks

router = APIRouter(prefix="/api/v1/query", tags=["query"])


def _action(deps: Deps, tenant: TenantIdentity, contract: Contract[Req, Any], body: Req) -> DomainAction:
    """The REST call as an action of the tenant, so it runs the same handler as the Redis one."""
    return deps.embedding.action(contract, body, tenant_id=tenant.tenant_id, tenant_tier=tenant.tier)


@router.post("/search")
async def search(body: SearchRequest, tenant: RateLimitedTenant, deps: Deps) -> SearchResult:
    """Search the tenant's collections (vector, text or hybrid) and return the ranked chunks with scores."""
    return await search_chunks(_action(deps, tenant, query.SEARCH, body), body, deps)


@router.post("/generate")
async def generate(body: GenerateRequest, tenant: RateLimitedTenant, deps: Deps) -> GenerateResult:
    """Answer a question from the tenant's documents, citing the chunks used as [n].

    The answer model must be allowed for the tenant's tier; each call counts against its request limits."""
    return await generate_answer(_action(deps, tenant, query.GENERATE, body), body, deps)
