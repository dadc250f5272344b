"""How envelopes travel: one JSON document in the stream field `action`, or as a list element."""

from __future__ import annotations

import json
from typing import Any

from pydantic import ValidationError as PydanticValidationError

from common.errors import ValidationError
from common.models.actions import DomainAction, DomainActionResponse

ACTION_FIELD = "action"


def utf8_size_over(text: str, max_bytes: int) -> int | None:
    """The UTF-8 size of `text` when it exceeds `max_bytes`, else None (no encoding when it clearly fits)."""
    if len(text) * 4 <= max_bytes:  # a character is at most 4 bytes
        return None
    size = len(text.encode())
    return size if size > max_bytes else None


def encode(model: DomainAction | DomainActionResponse, max_bytes: int) -> str:
    raw = model.model_dump_json(exclude_none=True)
    if (size := utf8_size_over(raw, max_bytes)) is not None:
        raise ValidationError(
            f"message of {size} bytes exceeds the {max_bytes}-byte limit",
            code="payload_too_large",
        )
    return raw


def decode_action(raw: str | None, max_bytes: int) -> DomainAction:
    """Parse a stream/list entry; every failure is a typed ValidationError."""
    if raw is None:
        raise ValidationError("message has no 'action' field", code="malformed_message")
    if utf8_size_over(raw, max_bytes) is not None:
        raise ValidationError(f"message exceeds the {max_bytes}-byte limit", code="payload_too_large")
    try:
        return DomainAction.model_validate_json(raw)
    except PydanticValidationError as exc:
        raise ValidationError(
            "message is not a valid DomainAction",
            code="malformed_message",
            details={"errors": exc.errors(include_url=False, include_context=False, include_input=False)},
        ) from None


def salvage_envelope(raw: str | None) -> dict[str, Any]:
    """Best effort: the reply coordinates of a message that failed to parse as a DomainAction."""
    try:
        doc = json.loads(raw or "")
    except (ValueError, TypeError):
        return {}
    if not isinstance(doc, dict):
        return {}
    keys = (
        "action_id",
        "correlation_id",
        "trace_id",
        "callback_queue_name",
        "callback_action_type",
        "tenant_id",
        "tenant_tier",
        "origin_service",
        "task_id",
        "session_id",
    )
    return {k: doc[k] for k in keys if isinstance(doc.get(k), str)}
