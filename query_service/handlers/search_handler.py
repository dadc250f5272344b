from common.contracts import query
from common.contracts.query import GenerateRequest, GenerateResult, SearchRequest, SearchResult
from common.models.actions import DomainAction
from common.workers.router import ActionRouter
from query_service.deps import QueryDeps
from query_service.services.generate import generate
from query_service.services.search import search

router: ActionRouter[QueryDeps] = ActionRouter()


@router.handle(query.SEARCH)
async def search_chunks(action: DomainAction, req: SearchRequest, deps: QueryDeps) -> SearchResult:
    hits = await search(deps.engine, deps.embedding, action, req, deps.settings)
    return SearchResult(query=req.query, mode=req.mode, results=hits)


@router.handle(query.GENERATE)
async def generate_answer(action: DomainAction, req: GenerateRequest, deps: QueryDeps) -> GenerateResult:
    return await generate(deps.engine, deps.embedding, deps.usage, action, req, deps.settings)
