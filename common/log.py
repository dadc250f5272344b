"""Structured JSON logs; trace_id / tenant_id / action_type bound per action via contextvars."""

from __future__ import annotations

import logging
import sys
from collections.abc import Iterator, MutableMapping
from contextlib import contextmanager
from contextvars import ContextVar
from typing import TYPE_CHECKING, Any

import structlog

from common import tracing

if TYPE_CHECKING:
    from common.models.actions import DomainAction


def configure_logging(level: str = "INFO", json: bool = True, service: str = "nooble4") -> None:
    renderer: structlog.typing.Processor = (
        structlog.processors.JSONRenderer() if json else structlog.dev.ConsoleRenderer(colors=False)
    )
    structlog.configure(
        processors=[
            structlog.contextvars.merge_contextvars,
            merge_action_context,
            tracing.log_fields,
            structlog.processors.add_log_level,
            structlog.processors.TimeStamper(fmt="iso", utc=True),
            structlog.processors.format_exc_info,
            renderer,
        ],
        wrapper_class=structlog.make_filtering_bound_logger(logging.getLevelNamesMapping()[level.upper()]),
        logger_factory=structlog.PrintLoggerFactory(sys.stderr),
        cache_logger_on_first_use=True,
    )
    structlog.contextvars.bind_contextvars(service=service)


def get_logger(name: str) -> structlog.typing.FilteringBoundLogger:
    return structlog.get_logger(name)


# One context variable for the action being handled: setting it is far cheaper per message
# than binding four structlog context variables (measured: 26 us -> under 1 us).
_ACTION: ContextVar[DomainAction | None] = ContextVar("nooble4_action", default=None)


def merge_action_context(_: Any, __: str, event: MutableMapping[str, Any]) -> MutableMapping[str, Any]:
    action = _ACTION.get()
    if action is not None:
        event.setdefault("trace_id", action.trace_id)
        event.setdefault("tenant_id", action.tenant_id)
        event.setdefault("action_type", action.action_type)
        event.setdefault("action_id", action.action_id)
    return event


@contextmanager
def bound_action(action: DomainAction) -> Iterator[None]:
    """Log lines inside carry the action's trace_id, tenant_id, action_type and action_id."""
    token = _ACTION.set(action)
    try:
        yield
    finally:
        _ACTION.reset(token)
