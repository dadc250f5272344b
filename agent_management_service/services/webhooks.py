"""Signed webhooks, per the Standard Webhooks spec: a tenant's endpoints hear about its events.

- Dispatch (`management.webhook.dispatch`, or in-process for the turns the ledger records): one delivery row per
  subscribed endpoint and event (a second dispatch of the same event adds none), then one
  `management.webhook.deliver` action per new delivery.
- Deliver: POST `{"type", "timestamp", "data"}` with `webhook-id` (the delivery's id, the same on every try),
  `webhook-timestamp` and `webhook-signature` (`v1,` + base64 HMAC-SHA256 of `id.timestamp.body` with the
  endpoint's secret); the URL passes the outbound guard (common.outbound) before every try and redirects are
  not followed. A 2xx delivers; anything else is logged and retried after `retry_base_s` * 4^n, at most
  `MAX_ATTEMPTS` tries.
- Retries wait in a sorted set beside the management streams (same Redis Cluster slot), each with its action
  already encoded; the scheduler moves the due ones to their stream in one script (nothing lost between the
  two), and a try is scheduled before its failure is written, so a worker dying mid-try loses no retry. A try
  whose worker dies is tried again (at least once, never twice after a 2xx was recorded).
"""

from __future__ import annotations

import asyncio
import base64
import json
import secrets
import time
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import sqlalchemy as sa
from cachetools import TTLCache
from redis.asyncio import Redis
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.ext.asyncio import AsyncEngine
from standardwebhooks import Webhook

from agent_management_service.models.tables import webhook_attempts, webhook_deliveries, webhook_endpoints
from agent_management_service.models.webhooks import (
    WebhookAttemptOut,
    WebhookDeliveryOut,
    WebhookEndpointCreate,
    WebhookEndpointCreated,
    WebhookEndpointOut,
)
from agent_management_service.settings import ManagementSettings
from common.clients.base_redis_client import BaseRedisClient
from common.contracts import management
from common.contracts.management import DeliverWebhook, WebhookEvent
from common.errors import NotFoundError, ValidationError
from common.log import get_logger
from common.messaging.codec import encode
from common.models.actions import DomainAction
from common.outbound import check_outbound_url, networks
from common.secret_box import secret_box
from common.tasks import sleep_unless
from common.tenancy import tenant_scope

log = get_logger(__name__)
MAX_ATTEMPTS = 8
BACKOFF = 4
MAX_ERROR_CHARS = 500
SUBSCRIBERS_TTL_S = 5.0
ENDPOINT_COLUMNS = [c for c in webhook_endpoints.c if c.name not in {"tenant_id", "secret_sealed"}]

# KEYS: the due set, the encoded actions, then the streams they may go to. ARGV: now_ms, stream maxlen.
_MOVE_DUE = """
local due = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', ARGV[1], 'LIMIT', 0, 100)
for _, id in ipairs(due) do
  local entry = redis.call('HGET', KEYS[2], id)
  if entry then
    local sep = string.find(entry, '\\n', 1, true)
    redis.call('XADD', string.sub(entry, 1, sep - 1), 'MAXLEN', '~', ARGV[2], '*', 'action', string.sub(entry, sep + 1))
    redis.call('HDEL', KEYS[2], id)
  end
  redis.call('ZREM', KEYS[1], id)
end
return #due
"""


class Webhooks:
    def __init__(self, engine: AsyncEngine, redis: Redis, settings: ManagementSettings, client: BaseRedisClient):
        self.engine = engine
        self.redis = redis
        self.settings = settings
        self.client = client
        self.allowed = networks(settings.outbound_allowed_networks)
        self.retry_base_s = settings.webhook_retry_base_s
        self.http = httpx.AsyncClient(timeout=settings.webhook_timeout_s, follow_redirects=False)
        prefix = client.queues.prefix
        self.due_key = f"{prefix}:{{management}}:webhooks:due"  # the management streams' slot
        self.due_actions_key = f"{prefix}:{{management}}:webhooks:due_actions"
        self._move_due = redis.register_script(_MOVE_DUE)
        self._none_subscribed: TTLCache[tuple[str, str], bool] = TTLCache(maxsize=100_000, ttl=SUBSCRIBERS_TTL_S)

    async def close(self) -> None:
        await self.http.aclose()

    # ---------------------------------------------------------------- endpoints
    async def create_endpoint(self, tenant_id: str, body: WebhookEndpointCreate) -> WebhookEndpointCreated:
        await check_outbound_url(body.url, self.allowed)
        secret = "whsec_" + base64.b64encode(secrets.token_bytes(32)).decode()
        sealed = secret_box(self.settings).seal(secret, tenant_id)
        async with self.engine.begin() as conn:
            row = (
                await conn.execute(
                    webhook_endpoints.insert()
                    .values(
                        id=str(uuid.uuid4()),
                        tenant_id=tenant_id,
                        url=body.url,
                        description=body.description,
                        event_types=[t.value for t in body.event_types],
                        secret_sealed=sealed,
                    )
                    .returning(*ENDPOINT_COLUMNS)
                )
            ).one()
        self._none_subscribed.clear()  # this replica hears the new endpoint's events at once
        return WebhookEndpointCreated(**row._asdict(), secret=secret)

    async def list_endpoints(self, tenant_id: str) -> list[WebhookEndpointOut]:
        async with self.engine.connect() as conn:
            rows = await conn.execute(
                sa.select(*ENDPOINT_COLUMNS)
                .where(webhook_endpoints.c.tenant_id == tenant_id, webhook_endpoints.c.disabled_at.is_(None))
                .order_by(webhook_endpoints.c.created_at)
            )
        return [WebhookEndpointOut.model_validate(r._asdict()) for r in rows]

    async def get_endpoint(self, tenant_id: str, endpoint_id: str) -> WebhookEndpointOut:
        async with self.engine.connect() as conn:
            row = (
                await conn.execute(
                    sa.select(*ENDPOINT_COLUMNS).where(
                        webhook_endpoints.c.tenant_id == tenant_id, webhook_endpoints.c.id == endpoint_id
                    )
                )
            ).one_or_none()
        if row is None:
            raise NotFoundError("webhook endpoint not found", code="webhook_not_found")
        return WebhookEndpointOut.model_validate(row._asdict())

    async def remove_endpoint(self, tenant_id: str, endpoint_id: str) -> WebhookEndpointOut:
        """Disabled, kept with its delivery log; its pending deliveries fail at their next try."""
        async with self.engine.begin() as conn:
            row = (
                await conn.execute(
                    webhook_endpoints.update()
                    .where(
                        webhook_endpoints.c.tenant_id == tenant_id,
                        webhook_endpoints.c.id == endpoint_id,
                        webhook_endpoints.c.disabled_at.is_(None),
                    )
                    .values(disabled_at=sa.func.now())
                    .returning(*ENDPOINT_COLUMNS)
                )
            ).one_or_none()
        if row is None:
            raise NotFoundError("webhook endpoint not found", code="webhook_not_found")
        return WebhookEndpointOut.model_validate(row._asdict())

    async def deliveries(self, tenant_id: str, endpoint_id: str, limit: int) -> list[WebhookDeliveryOut]:
        """The endpoint's deliveries, newest first, each with its attempts."""
        await self.get_endpoint(tenant_id, endpoint_id)
        columns = [c for c in webhook_deliveries.c if c.name not in {"tenant_id", "endpoint_id", "payload"}]
        async with self.engine.connect() as conn:
            rows = (
                await conn.execute(
                    sa.select(*columns)
                    .where(webhook_deliveries.c.tenant_id == tenant_id, webhook_deliveries.c.endpoint_id == endpoint_id)
                    .order_by(webhook_deliveries.c.created_at.desc())
                    .limit(limit)
                )
            ).all()
            attempts = await conn.execute(
                sa.select(webhook_attempts)
                .where(
                    webhook_attempts.c.tenant_id == tenant_id,
                    webhook_attempts.c.delivery_id.in_([r.id for r in rows]),
                )
                .order_by(webhook_attempts.c.id)
            )
            log_of: dict[str, list[WebhookAttemptOut]] = {}
            for attempt in attempts:
                log_of.setdefault(attempt.delivery_id, []).append(WebhookAttemptOut.model_validate(attempt._asdict()))
        return [WebhookDeliveryOut(**r._asdict(), log=log_of.get(r.id, [])) for r in rows]

    # ---------------------------------------------------------------- dispatch and delivery
    async def dispatch(self, parent: DomainAction, event: WebhookEvent) -> int:
        """One delivery per endpoint of the tenant subscribed to the event (none twice); returns how many. A
        tenant without such an endpoint is remembered for SUBSCRIBERS_TTL_S (every chat turn dispatches one
        event): an endpoint registered on another replica hears events from at most that much later."""
        subscribed = (parent.tenant_id, event.event_type.value)
        if self._none_subscribed.get(subscribed):
            return 0
        body = {"type": event.event_type.value, "timestamp": event.occurred_at.isoformat(), "data": event.data}
        async with self.engine.begin() as conn:
            endpoints = (
                await conn.execute(
                    sa.select(webhook_endpoints.c.id).where(
                        webhook_endpoints.c.tenant_id == parent.tenant_id,
                        webhook_endpoints.c.disabled_at.is_(None),
                        webhook_endpoints.c.event_types.contains([event.event_type.value]),
                    )
                )
            ).all()
            if not endpoints:
                self._none_subscribed[subscribed] = True
            new = []
            for endpoint in endpoints:
                delivery_id = await conn.scalar(
                    pg_insert(webhook_deliveries)
                    .values(
                        id=f"msg_{uuid.uuid4().hex}",
                        tenant_id=parent.tenant_id,
                        endpoint_id=endpoint.id,
                        event_type=event.event_type.value,
                        event_id=event.event_id,
                        payload=body,
                    )
                    .on_conflict_do_nothing(index_elements=["endpoint_id", "event_id"])
                    .returning(webhook_deliveries.c.id)
                )
                if delivery_id is not None:
                    new.append(delivery_id)
        for delivery_id in new:
            await self.client.send(management.DELIVER_WEBHOOK, DeliverWebhook(delivery_id=delivery_id), parent=parent)
        return len(new)

    async def deliver(self, action: DomainAction, delivery_id: str) -> None:
        """One try of a pending delivery (a delivered or given-up one is left alone)."""
        async with self.engine.connect() as conn:
            row = (
                await conn.execute(
                    sa.select(
                        webhook_deliveries,
                        webhook_endpoints.c.url,
                        webhook_endpoints.c.secret_sealed,
                        webhook_endpoints.c.disabled_at,
                    )
                    .join(webhook_endpoints, webhook_endpoints.c.id == webhook_deliveries.c.endpoint_id)
                    .where(webhook_deliveries.c.id == delivery_id, webhook_deliveries.c.tenant_id == action.tenant_id)
                )
            ).one_or_none()
        if row is None or row.status != "pending":
            return
        if row.disabled_at is not None:
            await self._finish(row, None, "the endpoint was removed", 0.0, None)
            return
        body = json.dumps(row.payload, separators=(",", ":"))
        now = datetime.now(UTC)
        secret = secret_box(self.settings).open(row.secret_sealed, action.tenant_id)
        headers = {
            "content-type": "application/json",
            "user-agent": "Nooble4-Webhooks/1",
            "webhook-id": delivery_id,
            "webhook-timestamp": str(int(now.timestamp())),
            "webhook-signature": Webhook(secret).sign(delivery_id, now, body),
        }
        started = time.perf_counter()
        status: int | None = None
        error: str | None = None
        permanent = False
        try:
            await check_outbound_url(row.url, self.allowed)
            response = await self.http.post(row.url, content=body.encode(), headers=headers)
            status = response.status_code
            if not 200 <= status < 300:
                error = f"the endpoint answered {status}"
        except ValidationError as exc:  # refused by the outbound guard, or no longer resolvable
            error, permanent = exc.message, exc.code == "url_not_allowed"
        except httpx.HTTPError as exc:
            error = f"{type(exc).__name__}: {exc}"[:MAX_ERROR_CHARS] or type(exc).__name__
        elapsed_ms = round((time.perf_counter() - started) * 1000, 2)
        delivered = error is None
        final = delivered or permanent or row.attempts + 1 >= MAX_ATTEMPTS
        # a retry is scheduled before the failure is written: a worker dying in between loses no retry
        next_at = None if final else await self._schedule_retry(action, delivery_id, row.attempts + 1)
        await self._finish(row, status, error, elapsed_ms, next_at)

    async def _schedule_retry(self, action: DomainAction, delivery_id: str, attempts: int) -> datetime:
        due = datetime.now(UTC) + timedelta(seconds=self.retry_base_s * BACKOFF ** (attempts - 1))
        retry = self.client.action(management.DELIVER_WEBHOOK, DeliverWebhook(delivery_id=delivery_id), parent=action)
        stream = self.client.queues.action_stream(retry.domain, retry.tenant_tier)
        entry = f"{stream}\n{encode(retry, self.settings.max_message_bytes)}"
        async with self.redis.pipeline(transaction=True) as pipe:
            pipe.hset(self.due_actions_key, delivery_id, entry)
            pipe.zadd(self.due_key, {delivery_id: due.timestamp() * 1000})
            await pipe.execute()
        return due

    async def _finish(
        self, row: Any, status: int | None, error: str | None, elapsed_ms: float, next_at: datetime | None
    ) -> None:
        """The try logged; the delivery delivered (no error), retried at `next_at`, or given up."""
        attempts = row.attempts + 1
        values: dict[str, Any] = {"attempts": attempts, "last_status": status, "last_error": error}
        if error is None:
            values |= {"status": "delivered", "delivered_at": sa.func.now(), "next_attempt_at": None}
        else:
            values |= {"status": "failed" if next_at is None else "pending", "next_attempt_at": next_at}
        async with self.engine.begin() as conn:
            await conn.execute(
                webhook_attempts.insert().values(
                    tenant_id=row.tenant_id, delivery_id=row.id, status_code=status, error=error, duration_ms=elapsed_ms
                )
            )
            await conn.execute(
                webhook_deliveries.update()
                .where(webhook_deliveries.c.id == row.id, webhook_deliveries.c.status == "pending")
                .values(**values)
            )
        log.info("webhook_attempt", delivery_id=row.id, attempt=attempts, status=status, error=error, retry_at=next_at)

    # ---------------------------------------------------------------- retries
    async def run_retries(self, stopping: asyncio.Event) -> None:
        """Move due retries to their stream until `stopping` is set (every replica runs it; each retry moves once);
        every `webhook_sweep_interval_s`, send again the deliveries left pending with nothing to try them."""
        streams = list(self.client.queues.action_streams("management").values())
        swept_at = time.monotonic()
        while not stopping.is_set():
            moved = await self._move_due(
                keys=[self.due_key, self.due_actions_key, *streams],
                args=[int(time.time() * 1000), self.settings.stream_maxlen],
            )
            if time.monotonic() - swept_at >= self.settings.webhook_sweep_interval_s:
                swept_at = time.monotonic()
                await self.resend_stranded()
            await sleep_unless(stopping, 0.05 if moved else min(0.5, self.retry_base_s))

    async def resend_stranded(self) -> int:
        """Deliveries still pending `webhook_stale_after_s` after their last try was due, with no retry waiting
        (a Redis that lost its data, a deliver action dead-lettered): one more try is sent for each. At least
        once, as ever: a try that was merely slow may run twice, with the same `webhook-id`."""
        due = sa.func.coalesce(webhook_deliveries.c.next_attempt_at, webhook_deliveries.c.created_at)
        stale = sa.func.now() - sa.func.make_interval(0, 0, 0, 0, 0, 0, self.settings.webhook_stale_after_s)
        with tenant_scope(None):  # every tenant's deliveries (system work)
            async with self.engine.connect() as conn:
                rows = (
                    await conn.execute(
                        sa.select(webhook_deliveries.c.id, webhook_deliveries.c.tenant_id)
                        .where(webhook_deliveries.c.status == "pending", due < stale)
                        .order_by(due)
                        .limit(100)
                    )
                ).all()
        resent = 0
        for row in rows:
            if await self.redis.zscore(self.due_key, row.id) is not None:
                continue  # its retry is waiting
            await self.client.send(
                management.DELIVER_WEBHOOK, DeliverWebhook(delivery_id=row.id), tenant_id=row.tenant_id
            )
            resent += 1
        if resent:
            log.warning("webhook_deliveries_resent", count=resent)
        return resent
