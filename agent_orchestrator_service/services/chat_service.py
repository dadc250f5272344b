"""Sessions and turns: what the REST API, the WebSocket and the callback handler of the orchestrator share."""

from __future__ import annotations

import asyncio
import os
import socket
from typing import Any

from agent_orchestrator_service.clients.conversation_client import ConversationClient
from agent_orchestrator_service.clients.execution_client import ExecutionClient
from agent_orchestrator_service.clients.management_client import ManagementClient
from agent_orchestrator_service.services.session_store import Session, SessionStore
from agent_orchestrator_service.settings import OrchestratorSettings
from common import tracing
from common.auth import EndUserScope, TenantIdentity
from common.errors import ForbiddenError, NotFoundError
from common.log import get_logger
from common.messaging.redis_manager import RedisManager
from common.models.actions import new_id
from common.models.chat import TERMINAL_EVENTS, ChatError, MessageStart, turn_timeout
from common.policy import TenantRateLimiter, tier_windows
from common.service import ServiceDeps
from common.stamps import TurnStamps, read_turn_stamps
from common.tier_limits import limits_for

log = get_logger(__name__)
ORIGIN = "orchestrator"


class ChatService:
    def __init__(self, deps: ServiceDeps, settings: OrchestratorSettings):
        self.settings = settings
        redis = self.redis = deps.redis
        self.queues = deps.queues
        # Every open socket blocks on its session's event log: a pool of their own, sized for them.
        self._readers = RedisManager(settings.model_copy(update={"redis_max_connections": settings.max_chat_sockets}))
        self.store = SessionStore(
            redis,
            deps.queues,
            ttl_s=settings.session_ttl_s,
            log_ttl_s=settings.event_log_ttl_s,
            log_maxlen=settings.event_log_maxlen,
            reader=self._readers.client,
        )
        self.open_sockets = 0
        self.limiter = TenantRateLimiter(redis, settings.redis_url, deps.queues)
        self.execution = ExecutionClient(redis, settings, ORIGIN)
        self.management = ManagementClient(redis, settings, ORIGIN)
        self.conversation = ConversationClient(redis, settings, ORIGIN)
        self.instance_id = settings.instance_id or f"{socket.gethostname()}-{os.getpid()}"
        self.callback_queue = deps.queues.callback_queue(ORIGIN, self.instance_id)

    async def open_session(
        self, tenant: TenantIdentity, agent_id: str, conversation_id: str | None, end_user_id: str | None
    ) -> Session:
        """A new session with the agent, continuing `conversation_id` when given. An end user may open one only
        with its own agent, as itself, continuing only its own conversations."""
        if scope := tenant.end_user:
            if agent_id != scope.agent_id:
                raise ForbiddenError("this end-user token is for another agent", code="agent_not_allowed")
            if end_user_id not in (None, scope.end_user_id):
                raise ForbiddenError("an end-user token chats as its own end user only", code="end_user_mismatch")
        end_user_id = end_user_id or tenant.end_user_id
        config = await self.management.agent_config(tenant.tenant_id, tenant.tier.value, agent_id)  # 404 if foreign
        if not config.is_active:
            raise ForbiddenError(f"agent {agent_id} is not active", code="agent_inactive")
        if conversation_id and tenant.end_user:
            owner = await self.conversation.owner(tenant.tenant_id, tenant.tier.value, conversation_id)
            if owner != (agent_id, end_user_id):
                raise NotFoundError("conversation not found", code="conversation_not_found")
        session_id = new_id()
        await self.store.create(
            session_id,
            tenant_id=tenant.tenant_id,
            tier=tenant.tier.value,
            agent_id=agent_id,
            conversation_id=conversation_id or new_id(),
            user_id=end_user_id,
        )
        session = await self.store.get(session_id)
        assert session is not None
        return session

    async def session_of(self, tenant: TenantIdentity, session_id: str) -> Session:
        """The tenant's session (an end user's: only its own); another's is reported as missing."""
        session = await self.store.get(session_id)
        if session is None or session.tenant_id != tenant.tenant_id or not _owns(tenant, session):
            raise NotFoundError(f"chat session {session_id} not found", code="session_not_found")
        return session

    async def close_session(self, session: Session) -> None:
        await self.store.delete(session.session_id)
        await self.conversation.close_session(session.tenant_id, session.tier, session.session_id)

    def turn_timeout_s(self, session: Session) -> float:
        """The tier's turn timeout (capped by settings); it travels to the execution service as the deadline."""
        timeout = float(limits_for(session.tier).timeout_s)
        return min(timeout, self.settings.turn_timeout_cap_s or timeout)

    async def start_turn(
        self, session: Session, content: str, client_message_id: str | None, caller: TenantIdentity | None = None
    ) -> ChatError | None:
        """Starts a turn, or says why not (a turn is running, rate limited, the end user's budget spent, session
        gone)."""
        with tracing.span(  # a turn is a trace of its own (a socket lives for many)
            "chat.turn", root=True, tenant_id=session.tenant_id, tier=session.tier, agent_id=session.agent_id
        ):
            budget = caller.end_user if caller and caller.end_user and caller.end_user.request_budget else None
            if budget is not None and (spent := await self._spend_budget(budget)) is not None:
                return spent
            refusal = await self._start_turn(session, content, client_message_id)
            if refusal is not None and budget is not None:
                await self.redis.decr(self._budget_key(budget))  # refused turns do not spend it
            tracing.set_outcome(refusal.code if refusal else "started")
            return refusal

    def _budget_key(self, scope: EndUserScope) -> str:
        return self.queues.state_key("orchestrator", "end_user_turns", scope.token_id)

    async def _spend_budget(self, scope: EndUserScope) -> ChatError | None:
        """Counts the turn against the end-user credential's request budget (atomic across replicas)."""
        key = self._budget_key(scope)
        async with self.redis.pipeline(transaction=True) as pipe:
            pipe.incr(key)
            pipe.expireat(key, int(scope.expires_at) + 60)
            used, _ = await pipe.execute()
        if scope.request_budget is not None and used > scope.request_budget:
            return ChatError(
                code="quota_exceeded",
                message=f"this end user's budget of {scope.request_budget} messages is used up",
            )
        return None

    async def _start_turn(self, session: Session, content: str, client_message_id: str | None) -> ChatError | None:
        if tier_windows(session.tier):  # a turn that would be refused must not spend the tenant's request budget
            current = await self.store.get(session.session_id)
            if current is None or current.turn_running():
                return self._refusal(current)
            retry_after = await self.limiter.hit(session.tenant_id, session.tier)
            if retry_after is not None:
                return ChatError(
                    code="rate_limited",
                    message=f"the {session.tier} tier's request limit is reached",
                    retry_after=retry_after,
                )
        task_id = new_id()
        timeout_s = self.turn_timeout_s(session)
        # the agent's and conversation's stamps travel with the turn (the execution service checks its kept
        # copies against them): read while begin_turn is on the wire, not after it
        stamps = asyncio.create_task(self._turn_stamps(session))
        try:
            started = await self.store.begin_turn(
                session.session_id,
                task_id,
                MessageStart(task_id=task_id, client_message_id=client_message_id, content=content),
                max_seconds=timeout_s + self.settings.turn_grace_s,
                timeout_event=turn_timeout(task_id, timeout_s, kept=False),
            )
        finally:
            await asyncio.wait([stamps])  # not cancelled: a GET cut mid-reply costs its connection
        if started <= 0:  # refused by the session itself (the common case needs no read before the turn)
            return self._refusal(await self.store.get(session.session_id))
        try:
            await self.execution.run_turn(
                tenant_id=session.tenant_id,
                tier=session.tier,
                session_id=session.session_id,
                agent_id=session.agent_id,
                conversation_id=session.conversation_id,
                task_id=task_id,
                message=content,
                client_message_id=client_message_id,
                user_id=session.user_id,
                callback_queue=self.callback_queue,
                timeout_s=timeout_s,
                stamps=stamps.result(),
            )
        except Exception as exc:
            log.error("turn_not_sent", task_id=task_id, exc_info=exc)
            await self.end_turn(session, task_id, ChatError(code="unavailable", message="could not start the turn"))
        return None

    async def _turn_stamps(self, session: Session) -> TurnStamps | None:
        """None when they cannot be read (they only save the execution service a round trip: it then reads them
        itself)."""
        try:
            return await read_turn_stamps(
                self.redis, self.queues, session.tenant_id, session.agent_id, session.conversation_id
            )
        except Exception as exc:
            log.warning("turn_stamps_not_read", session_id=session.session_id, error=str(exc))
            return None

    @staticmethod
    def _refusal(current: Session | None) -> ChatError:
        """Why a turn cannot start in a session as it is now: gone, or busy with another turn."""
        if current is None:
            return ChatError(code="session_expired", message="this chat session has expired; open a new one")
        return ChatError(
            code="turn_in_progress",
            message="a reply is still being generated; wait for it or cancel it",
            task_id=current.active_task,
        )

    async def cancel_turn(self, session: Session, task_id: str) -> ChatError | None:
        current = await self.store.get(session.session_id)
        if current is None or current.active_task != task_id:
            return ChatError(code="no_such_turn", message=f"no running turn {task_id}", task_id=task_id)
        await self.execution.cancel(
            tenant_id=session.tenant_id, tier=session.tier, session_id=session.session_id, task_id=task_id
        )
        return None

    async def on_event(self, session_id: str, task_id: str, event: Any, attempt: int = 0, n: int = 0) -> None:
        """An event of a running turn, from the execution service (a replayed one is logged once)."""
        terminal = event.type in TERMINAL_EVENTS
        await self.store.task_event(session_id, task_id, event, terminal=terminal, attempt=attempt, n=n)

    async def end_turn(self, session: Session, task_id: str, error: ChatError) -> bool:
        return await self.store.task_event(session.session_id, task_id, error, terminal=True) > 0

    def claim_socket(self) -> bool:
        """Room for one more socket on this replica? (`release_socket` when it closes.)"""
        if self.open_sockets >= self.settings.max_chat_sockets:
            return False
        self.open_sockets += 1
        return True

    def release_socket(self) -> None:
        self.open_sockets -= 1

    async def close(self) -> None:
        await self._readers.close()


def _owns(caller: TenantIdentity, session: Session) -> bool:
    """Tenant-wide callers own every session of their tenant; an end user only its own with its agent."""
    scope = caller.end_user
    return scope is None or (session.agent_id, session.user_id) == (scope.agent_id, scope.end_user_id)
