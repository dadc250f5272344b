from typing import Annotated

from fastapi import APIRouter, Query, status

from agent_management_service.deps import Deps
from agent_management_service.models.webhooks import (
    WebhookDeliveryOut,
    WebhookEndpointCreate,
    WebhookEndpointCreated,
    WebhookEndpointOut,
)
from common.audit import Audit
from common.auth import CurrentTenant
from common.contracts.management import DISPATCH_WEBHOOK, WebhookEvent, WebhookEventType
from common.models.actions import new_id, utc_now

router = APIRouter(prefix="/api/v1/webhooks", tags=["webhooks"])


@router.post("", status_code=status.HTTP_201_CREATED)
async def create(
    body: WebhookEndpointCreate, tenant: CurrentTenant, deps: Deps, audit: Audit
) -> WebhookEndpointCreated:
    """Register a webhook endpoint.

    For the events named (`document.ready`, `document.failed`, `conversation.turn_completed`, `budget.exceeded`,
    `webhook.test`). Deliveries are signed per the Standard Webhooks spec with the secret in this response
    (shown once; stored encrypted). Private, loopback and link-local addresses are refused (422
    `url_not_allowed`) unless the operator allows their network."""
    created = await deps.webhooks.create_endpoint(tenant.tenant_id, body)
    await audit.record("webhook.created", "webhook", created.id, after=created.model_dump(exclude={"secret"}))
    return created


@router.get("")
async def list_(tenant: CurrentTenant, deps: Deps) -> list[WebhookEndpointOut]:
    """List the webhook endpoints.

    Never their secrets."""
    return await deps.webhooks.list_endpoints(tenant.tenant_id)


@router.delete("/{endpoint_id}", status_code=status.HTTP_204_NO_CONTENT)
async def remove(endpoint_id: str, tenant: CurrentTenant, deps: Deps, audit: Audit) -> None:
    """Remove a webhook endpoint.

    No new delivery goes to it; its delivery log stays readable."""
    removed = await deps.webhooks.remove_endpoint(tenant.tenant_id, endpoint_id)
    await audit.record("webhook.removed", "webhook", endpoint_id, before=removed.model_dump(exclude={"disabled_at"}))


@router.get("/{endpoint_id}/deliveries")
async def deliveries(
    endpoint_id: str, tenant: CurrentTenant, deps: Deps, limit: Annotated[int, Query(ge=1, le=200)] = 50
) -> list[WebhookDeliveryOut]:
    """The endpoint's delivery log.

    Newest first: each event's delivery (pending, delivered or failed) with every attempt's status code or
    error and duration."""
    return await deps.webhooks.deliveries(tenant.tenant_id, endpoint_id, limit)


@router.post("/{endpoint_id}/test", status_code=status.HTTP_202_ACCEPTED)
async def test(endpoint_id: str, tenant: CurrentTenant, deps: Deps) -> dict[str, str]:
    """Send a test event.

    A `webhook.test` event to every endpoint of the tenant subscribed to it (this one must be); see the result
    in the delivery log."""
    endpoint = await deps.webhooks.get_endpoint(tenant.tenant_id, endpoint_id)
    event = WebhookEvent(
        event_type=WebhookEventType.TEST,
        event_id=f"test:{new_id()}",
        occurred_at=utc_now(),
        data={"endpoint_id": endpoint.id, "message": "a test event from Nooble4"},
    )
    parent = deps.webhooks.client.action(DISPATCH_WEBHOOK, event, tenant_id=tenant.tenant_id, tenant_tier=tenant.tier)
    await deps.webhooks.dispatch(parent, event)
    return {"event_id": event.event_id}
