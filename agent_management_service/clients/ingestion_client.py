from common.auth import TenantIdentity
from common.clients.base_redis_client import BaseRedisClient
from common.contracts import ingestion
from common.contracts.ingestion import VerifyCollections
from common.errors import ValidationError


class IngestionClient(BaseRedisClient):
    async def check_collections(self, tenant: TenantIdentity, collection_ids: list[str]) -> None:
        """ValidationError naming the ids that are not collections of this tenant (the ingestion service owns them)."""
        if not collection_ids:
            return
        request = VerifyCollections(collection_ids=collection_ids)
        reply = await self.call(
            ingestion.VERIFY_COLLECTIONS, request, tenant_id=tenant.tenant_id, tenant_tier=tenant.tier
        )
        if reply.missing:
            missing = reply.missing
            raise ValidationError(
                f"unknown collection(s): {', '.join(missing)}", code="unknown_collection", details={"missing": missing}
            )
