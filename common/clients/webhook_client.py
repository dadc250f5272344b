"""What a service uses to tell a tenant's webhooks that something happened (`management.webhook.dispatch`)."""

from typing import Any

from common.clients.base_redis_client import BaseRedisClient
from common.contracts import management
from common.contracts.management import WebhookEvent, WebhookEventType
from common.models.actions import utc_now


class WebhookClient(BaseRedisClient):
    async def emit(self, event_type: WebhookEventType, event_id: str, data: dict[str, Any], **address: Any) -> None:
        """`parent=` or `tenant_id=`/`tenant_tier=`; dispatched once per `event_id` to each subscribed endpoint."""
        event = WebhookEvent(event_type=event_type, event_id=event_id, occurred_at=utc_now(), data=data)
        await self.send(management.DISPATCH_WEBHOOK, event, **address)
