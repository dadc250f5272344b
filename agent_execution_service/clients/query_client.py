from common.clients.base_redis_client import BaseRedisClient
from common.models.actions import DomainAction
from common.models.knowledge import SearchHit

SEARCH_TIMEOUT_S = 20


class QueryClient(BaseRedisClient):
    async def search(
        self,
        parent: DomainAction,
        query: str,
        collection_ids: list[str],
        top_k: int = 5,
        *,
        with_evidence: bool = False,
    ) -> list[SearchHit]:
        """Hybrid search of the collections; `with_evidence`: each hit with its section, its supporting sentences
        and its relevance (what grounded answers and abstention use)."""
        data = {
            "query": query,
            "collection_ids": collection_ids,
            "top_k": top_k,
            "mode": "hybrid",
            "with_evidence": with_evidence,
        }
        reply = await self.call(self.follow_up(parent, "query.search", data), timeout=SEARCH_TIMEOUT_S)
        return [SearchHit.model_validate(hit) for hit in reply.get("results", [])]
