"""Errors on WebSockets, mapped once: the close code and reason a refused or revoked socket gets.

4000-4999 are the application's codes (a client should not retry these as they are); 1013 is the protocol's
"try again later"."""

from __future__ import annotations

from fastapi import WebSocket

from common.errors import NoobleError
from common.models.actions import ErrorType

WS_UNAUTHORIZED = 4401
WS_FORBIDDEN = 4403
WS_NOT_FOUND = 4404
WS_UNAVAILABLE = 4503
WS_TRY_AGAIN_LATER = 1013

_CODES = {
    ErrorType.UNAUTHORIZED: WS_UNAUTHORIZED,
    ErrorType.FORBIDDEN: WS_FORBIDDEN,
    ErrorType.QUOTA_EXCEEDED: WS_FORBIDDEN,
    ErrorType.NOT_FOUND: WS_NOT_FOUND,
    ErrorType.VALIDATION_ERROR: WS_NOT_FOUND,  # a malformed id in the path names nothing that exists
}


def close_code(error: NoobleError) -> int:
    return _CODES.get(error.error_type, WS_UNAVAILABLE)


async def close_with(websocket: WebSocket, error: NoobleError) -> None:
    """Close `websocket` for `error`: its code, and its message (cut to what a close frame carries)."""
    await websocket.close(code=close_code(error), reason=error.message[:120])
