from common.auth import TenantIdentity
from common.clients.base_redis_client import BaseRedisClient
from common.errors import ValidationError


class IngestionClient(BaseRedisClient):
    async def check_collections(self, tenant: TenantIdentity, collection_ids: list[str]) -> None:
        """ValidationError naming the ids that are not collections of this tenant (the ingestion service owns them)."""
        if not collection_ids:
            return
        action = self.new_action(
            "ingestion.collection.verify",
            tenant_id=tenant.tenant_id,
            tenant_tier=tenant.tier,
            data={"collection_ids": collection_ids},
        )
        missing = (await self.call(action, timeout=10))["missing"]
        if missing:
            raise ValidationError(
                f"unknown collection(s): {', '.join(missing)}", code="unknown_collection", details={"missing": missing}
            )
