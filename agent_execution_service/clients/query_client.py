from common.clients.base_redis_client import BaseRedisClient
from common.contracts import query
from common.contracts.query import SearchMode, SearchRequest
from common.models.actions import DomainAction
from common.models.knowledge import SearchHit


class QueryClient(BaseRedisClient):
    async def search(
        self,
        parent: DomainAction,
        query_text: str,
        collection_ids: list[str],
        top_k: int = 5,
        *,
        with_evidence: bool = False,
    ) -> list[SearchHit]:
        """Hybrid search of the collections; `with_evidence`: each hit with its section, its supporting sentences
        and its relevance (what grounded answers and abstention use)."""
        request = SearchRequest(
            query=query_text,
            collection_ids=collection_ids,
            top_k=top_k,
            mode=SearchMode.HYBRID,
            with_evidence=with_evidence,
        )
        return (await self.call(query.SEARCH, request, parent=parent)).results
