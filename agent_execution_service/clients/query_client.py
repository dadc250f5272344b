from typing import Any

from common.clients.base_redis_client import BaseRedisClient
from common.models.actions import DomainAction


class QueryClient(BaseRedisClient):
    async def search(
        self, parent: DomainAction, query: str, collection_ids: list[str], top_k: int = 5, mode: str = "hybrid"
    ) -> list[dict[str, Any]]:
        data = {"query": query, "collection_ids": collection_ids, "top_k": top_k, "mode": mode}
        reply = await self.call(self.follow_up(parent, "query.search", data), timeout=15)
        return reply.get("results", [])
