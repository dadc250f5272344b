"""The three ways a service talks to another (DESIGN.md §4)."""

from __future__ import annotations

import asyncio
from datetime import timedelta
from typing import Any

from redis.asyncio import Redis

from common import tracing
from common.clients.action_writer import StreamEntry, action_writer
from common.clients.reply_listener import reply_listener
from common.contracts.contract import Contract, Rep, Req
from common.errors import ActionTimeoutError, NoobleError
from common.messaging.codec import encode
from common.messaging.queue_manager import QueueManager
from common.models.actions import DomainAction, DomainActionResponse, utc_now
from common.models.tiers import Tier
from common.settings import CommonSettings


class BaseRedisClient:
    """Sends DomainActions to other services' streams. Service clients subclass it with typed methods."""

    def __init__(self, redis: Redis, settings: CommonSettings, origin_service: str):
        self.redis = redis
        self.settings = settings
        self.queues = QueueManager(settings.environment)
        self.origin_service = origin_service

    def new_action(
        self,
        action_type: str,
        *,
        tenant_id: str,
        tenant_tier: Tier | str = Tier.FREE,
        data: dict[str, Any] | None = None,
        **fields: Any,
    ) -> DomainAction:
        """A raw action (the messaging layer's own tests and benches); services send contracts' actions."""
        return DomainAction(
            action_type=action_type,
            tenant_id=tenant_id,
            tenant_tier=Tier(tenant_tier),
            origin_service=self.origin_service,
            data=data or {},
            **fields,
        )

    def action(
        self,
        contract: Contract[Req, Any],
        request: Req,
        *,
        parent: DomainAction | None = None,
        tenant_id: str | None = None,
        tenant_tier: Tier | str | None = None,
        **fields: Any,
    ) -> DomainAction:
        """`contract`'s action carrying `request`: on behalf of `parent` (same tenant, tier, session, task, agent,
        user and trace) or of `tenant_id`; `fields` set other envelope fields (session_id, task_id...)."""
        if not isinstance(request, contract.request):
            raise TypeError(f"{contract.action_type} takes a {contract.request.__name__}")
        if parent is not None:
            context = parent.model_dump(include={"session_id", "task_id", "user_id", "agent_id", "trace_id"})
            fields = context | fields
            tenant_id, tenant_tier = parent.tenant_id, parent.tenant_tier
        if traced := tracing.context_fields():  # the sending span, when tracing is on
            fields = fields | traced
        if tenant_id is None:
            raise TypeError("an action needs a parent or a tenant_id")
        return self.new_action(
            contract.action_type,
            tenant_id=tenant_id,
            tenant_tier=tenant_tier or Tier.FREE,
            # every field, defaults too: a receiver of another version (a rolling deploy) applies none of its own
            data=request.model_dump(mode="json"),
            **fields,
        )

    async def call(
        self, contract: Contract[Req, Rep], request: Req, *, timeout: float | None = None, **address: Any
    ) -> Rep:
        """Pseudo-sync: the reply as the contract's reply model, or the reply's error raised as a NoobleError.
        `address`: `parent=` or `tenant_id=`/`tenant_tier=`, as for `action`."""
        action = self.action(contract, request, **address)
        return contract.parse_reply(await self.call_action(action, timeout or contract.timeout_s))

    async def send(self, contract: Contract[Req, None], request: Req, **address: Any) -> str:
        """Fire and forget; returns the stream entry id."""
        return await self.send_action_async(self.action(contract, request, **address))

    async def stream(self, contract: Contract[Req, None], request: Req, *, callback_queue: str, **address: Any) -> str:
        """A streamed action: its callbacks (`contract.callback`) come to `callback_queue`."""
        assert contract.callback is not None, f"{contract.action_type} streams no callbacks"
        action = self.action(contract, request, **address)
        return await self.send_action_async_with_callback(action, contract.callback.action_type, callback_queue)

    async def _xadd(self, action: DomainAction) -> str:
        """XADD `action` to its domain's stream for its tier (sharing a pipeline with concurrent calls')."""
        stream = self.queues.action_stream(action.domain, action.tenant_tier)
        payload = encode(action, self.settings.max_message_bytes)
        return await action_writer(self.redis).send(StreamEntry(stream, payload, self.settings.stream_maxlen))

    async def send_action_async(self, action: DomainAction) -> str:
        """Fire and forget. Returns the stream entry id."""
        return await self._xadd(action)

    async def send_action_pseudo_sync(self, action: DomainAction, timeout: float | None = None) -> DomainActionResponse:
        """Request/reply. Raises `common.errors.ActionTimeoutError` when no reply comes in time.

        The reply comes to the process's reply listener (common.clients.reply_listener), which hands it to this
        call by correlation id; a cancelled caller stops waiting at once and cancels no Redis command."""
        timeout = timeout if timeout is not None else self.settings.pseudo_sync_timeout_s
        correlation_id = action.correlation_id or action.action_id
        listener = reply_listener(self.redis, self.queues, self.origin_service)
        action = action.model_copy(
            update={
                "correlation_id": correlation_id,
                "callback_queue_name": listener.queue,
                "callback_action_type": None,
                "deadline": utc_now() + timedelta(seconds=timeout),
            }
        )
        reply = listener.expect(correlation_id, timeout)
        try:
            await self._xadd(action)
            listener.request_sent()
            async with asyncio.timeout(timeout):
                return await reply
        except TimeoutError:
            raise ActionTimeoutError(
                f"{action.action_type} got no reply within {timeout:g} s",
                code="reply_timeout",
                details={"action_id": action.action_id, "correlation_id": correlation_id},
            ) from None
        finally:
            listener.forget(correlation_id)

    async def call_action(self, action: DomainAction, timeout: float | None = None) -> dict[str, Any]:
        """Pseudo-sync, returning the reply data or raising the reply's error as a NoobleError."""
        response = await self.send_action_pseudo_sync(action, timeout)
        if response.error is not None:
            raise NoobleError.from_detail(response.error)
        return response.data or {}

    async def send_action_async_with_callback(
        self, action: DomainAction, callback_action_type: str, callback_queue: str
    ) -> str:
        """The worker will LPUSH a `callback_action_type` DomainAction to `callback_queue` when done."""
        action = action.model_copy(
            update={
                "callback_action_type": callback_action_type,
                "callback_queue_name": callback_queue,
                "correlation_id": action.correlation_id or action.action_id,
            }
        )
        return await self.send_action_async(action)
