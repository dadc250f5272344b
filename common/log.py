"""Structured JSON logs; trace_id / tenant_id / action_type bound per action via contextvars."""

from __future__ import annotations

import logging
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING

import structlog

if TYPE_CHECKING:
    from common.models.actions import DomainAction


def configure_logging(level: str = "INFO", json: bool = True, service: str = "nooble4") -> None:
    renderer: structlog.typing.Processor = (
        structlog.processors.JSONRenderer() if json else structlog.dev.ConsoleRenderer(colors=False)
    )
    structlog.configure(
        processors=[
            structlog.contextvars.merge_contextvars,
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


@contextmanager
def bound_action(action: DomainAction) -> Iterator[None]:
    with structlog.contextvars.bound_contextvars(
        trace_id=action.trace_id,
        tenant_id=action.tenant_id,
        action_type=action.action_type,
        action_id=action.action_id,
    ):
        yield
