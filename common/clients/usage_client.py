"""What a service that calls models uses to send its usage to the ledger (`management.usage.record`)."""

from typing import Any

from common.clients.base_redis_client import BaseRedisClient
from common.contracts import management
from common.contracts.management import UsageRecord


class UsageClient(BaseRedisClient):
    async def record(self, record: UsageRecord, **address: Any) -> None:
        """Sent on behalf of `parent=` (its tenant and tier) or `tenant_id=`/`tenant_tier=`; the ledger writes it
        a moment later, the sender does not wait for the database."""
        await self.send(management.RECORD_USAGE, record, **address)
