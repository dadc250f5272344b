"""One chat WebSocket: client frames in; the session's event log out, in `seq` order.

Bad frames get an `error` event and the socket stays open. Events are read from the log, never
pushed directly, so a reconnect with `?last_seq=N` resumes exactly after N on any replica.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import Awaitable, Callable

import pydantic
from fastapi import WebSocket, WebSocketDisconnect
from redis.asyncio import Redis
from starlette.websockets import WebSocketState

from agent_orchestrator_service.models.chat import (
    FRAME_TYPES,
    CancelFrame,
    MessageFrame,
    client_frame_adapter,
)
from agent_orchestrator_service.services.chat_service import ChatService
from agent_orchestrator_service.services.session_store import Session
from common.auth import TenantIdentity
from common.errors import NoobleError, UnauthorizedError
from common.log import get_logger
from common.messaging.backoff import REDIS_DOWN, Backoff
from common.messaging.redis_manager import own_connection
from common.models.chat import MAX_MESSAGE_CHARS, ChatError, Pong, SessionReady
from common.validation import unrepresentable
from common.websocket_errors import WS_UNAUTHORIZED

log = get_logger(__name__)


AUTH_RECHECK_S = 3.0  # a revoked key or disabled tenant loses its open sockets within this (+ the auth cache)


class ChatSocket:
    def __init__(
        self,
        websocket: WebSocket,
        chat: ChatService,
        session: Session,
        last_seq: int | None,
        caller: TenantIdentity,
        reauthenticate: Callable[[], Awaitable[TenantIdentity]],
    ):
        self.websocket = websocket
        self.chat = chat
        self.session = session
        self.last_seq = last_seq
        self.caller = caller
        self.reauthenticate = reauthenticate
        self._closed = asyncio.Event()

    async def run(self) -> None:
        resume_after = self.last_seq if self.last_seq is not None else self.session.seq
        tail = asyncio.create_task(self._send_events(resume_after))
        try:
            if self.last_seq is None:
                await self.chat.store.append(
                    self.session.session_id,
                    SessionReady(
                        session_id=self.session.session_id,
                        conversation_id=self.session.conversation_id,
                        agent_id=self.session.agent_id,
                    ),
                )
            await self._receive_frames()
        finally:
            # Never cancel a blocking Redis read (MESSAGING.md): the tail sees the flag within one read.
            self._closed.set()
            with contextlib.suppress(WebSocketDisconnect, RuntimeError, *REDIS_DOWN):
                await tail

    async def _receive_frames(self) -> None:
        while True:
            message = await self.websocket.receive()
            if message["type"] == "websocket.disconnect":
                return
            raw = message.get("text")
            if raw is None and message.get("bytes") is not None:
                raw = message["bytes"].decode("utf-8", errors="replace")
            error = await self._handle_frame(raw or "")
            if error is not None:
                await self.chat.store.append(self.session.session_id, error)

    async def _handle_frame(self, raw: str) -> ChatError | None:
        if len(raw.encode()) > self.chat.settings.ws_max_frame_bytes:
            if '"message"' in raw[:200]:  # a message too long to carry: say so in the user's terms
                return _too_long(None)
            limit = self.chat.settings.ws_max_frame_bytes
            return ChatError(code="frame_too_large", message=f"frames are limited to {limit} bytes")
        try:
            doc = json.loads(raw)
        except ValueError:
            return ChatError(code="invalid_json", message="frames must be JSON objects")
        if problems := unrepresentable(doc):
            where = ".".join(map(str, problems[0]["loc"])) or "frame"
            return ChatError(code="invalid_frame", message=f"{where}: {problems[0]['msg']}")
        if not isinstance(doc, dict) or doc.get("type") not in FRAME_TYPES:
            kind = doc.get("type") if isinstance(doc, dict) else None
            return ChatError(
                code="unknown_frame_type",
                message=f"unknown frame type {kind!r}; expected one of {', '.join(FRAME_TYPES)}",
            )
        try:
            frame = client_frame_adapter.validate_python(doc)
        except pydantic.ValidationError as exc:
            if doc["type"] == "message" and any(e["type"] == "string_too_long" for e in exc.errors()):
                return _too_long(len(doc.get("content") or ""))
            reasons = "; ".join(f"{'.'.join(map(str, e['loc'][1:]))}: {e['msg']}" for e in exc.errors())
            return ChatError(code="invalid_frame", message=f"invalid {doc['type']} frame: {reasons}")
        if isinstance(frame, MessageFrame):
            return await self.chat.start_turn(self.session, frame.content, frame.client_message_id, self.caller)
        if isinstance(frame, CancelFrame):
            return await self.chat.cancel_turn(self.session, frame.task_id)
        await self.chat.store.append(self.session.session_id, Pong())
        return None

    async def _still_authorized(self) -> bool:
        try:
            identity = await self.reauthenticate()
            if identity.tenant_id == self.session.tenant_id:
                self.caller = identity
                return True
            reason = "credentials changed tenant"
        except UnauthorizedError as exc:
            reason = exc.message
        except NoobleError:  # management unreachable: keep serving what was authorized
            return True
        await self.websocket.close(code=WS_UNAUTHORIZED, reason=reason[:120])
        return False

    async def _send_events(self, after_seq: int) -> None:
        async with own_connection(self.chat.store.reader) as reader:  # no pool checkout per read
            await self._send_events_from(reader, after_seq)

    async def _send_events_from(self, reader: Redis, after_seq: int) -> None:
        backoff = Backoff()
        loop = asyncio.get_running_loop()
        checked_at = loop.time()
        while not self._closed.is_set() and self.websocket.application_state == WebSocketState.CONNECTED:
            if loop.time() - checked_at > AUTH_RECHECK_S:
                checked_at = loop.time()
                if not await self._still_authorized():
                    self._closed.set()
                    return
            try:
                events = await self.chat.store.read_events(self.session.session_id, after_seq, reader=reader)
                backoff.reset()
            except REDIS_DOWN as exc:
                await backoff.wait(exc, session_id=self.session.session_id)
                continue
            for event in events:
                await self.websocket.send_text(event.json)
                after_seq = event.seq


def _too_long(chars: int | None) -> ChatError:
    size = f"is {chars:,} characters" if chars is not None else "is too long"
    return ChatError(
        code="message_too_long",
        message=f"Your message {size}; the limit is {MAX_MESSAGE_CHARS:,}. Shorten it or split it, then send again.",
    )
