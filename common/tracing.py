"""OpenTelemetry traces across every Redis hop.

Off by default, and then free: nothing is created, injected or extracted. The standard variables switch it on:
`OTEL_TRACES_EXPORTER=otlp` or an `OTEL_EXPORTER_OTLP_ENDPOINT` / `OTEL_EXPORTER_OTLP_TRACES_ENDPOINT` (OTLP over
HTTP/protobuf, batched; `OTEL_SDK_DISABLED=true` or `OTEL_TRACES_EXPORTER=none` keep it off). The exporter,
the batch processor and the resource read the rest of the `OTEL_*` variables themselves.

When on:
- an HTTP request opens the root span (or continues the caller's `traceparent` header); a chat turn opens its
  own (`chat.turn`) on the orchestrator;
- every action sent carries the W3C `traceparent`/`tracestate` of the span it was sent from, and its `trace_id`
  is the trace's id; every action handled is a child span of its sender's, named by its action type, with
  tenant, tier, attempt and outcome attributes;
- the model call, retrieval and database statements are spans of their own;
- log lines carry `trace_id` and `span_id`.
"""

from __future__ import annotations

import os
from collections.abc import Iterator, MutableMapping
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

from opentelemetry import propagate, trace

if TYPE_CHECKING:
    from fastapi import FastAPI
    from sqlalchemy.ext.asyncio import AsyncEngine

    from common.models.actions import DomainAction

TRACER_NAME = "nooble4"
_enabled = False


def wanted() -> bool:
    """Whether the standard `OTEL_*` variables ask for traces."""
    if os.environ.get("OTEL_SDK_DISABLED", "").lower() == "true":
        return False
    exporter = os.environ.get("OTEL_TRACES_EXPORTER", "").strip().lower()
    if exporter:
        return exporter != "none"
    return bool(os.environ.get("OTEL_EXPORTER_OTLP_ENDPOINT") or os.environ.get("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT"))


def enabled() -> bool:
    return _enabled


def configure_tracing(service_name: str) -> None:
    """Install the SDK's tracer provider with an OTLP exporter, when the environment asks for traces."""
    global _enabled
    if _enabled or not wanted():
        return
    from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
    from opentelemetry.sdk.resources import SERVICE_NAME, Resource
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import BatchSpanProcessor

    resource = Resource.create({SERVICE_NAME: os.environ.get("OTEL_SERVICE_NAME") or service_name})
    provider = TracerProvider(resource=resource)
    provider.add_span_processor(BatchSpanProcessor(OTLPSpanExporter()))
    trace.set_tracer_provider(provider)
    _enabled = True


def shutdown_tracing() -> None:
    """Export what is still batched (a service stopping)."""
    provider = trace.get_tracer_provider()
    if _enabled and hasattr(provider, "shutdown"):
        provider.shutdown()


def instrument_app(app: FastAPI) -> None:
    """HTTP requests open (or continue) a trace; WebSocket connections do not (a socket lives for many turns:
    each chat turn opens its own)."""
    if not _enabled:
        return
    from opentelemetry.instrumentation.asgi import OpenTelemetryMiddleware

    app.add_middleware(_HttpOnly, traced=OpenTelemetryMiddleware, exclude_spans=["receive", "send"])  # type: ignore[arg-type]


class _HttpOnly:
    """ASGI middleware: HTTP requests through `traced` (the OpenTelemetry ASGI middleware), the rest straight on."""

    def __init__(self, app: Any, traced: Any, **options: Any):
        self.app = app
        self.traced = traced(app, **options)

    async def __call__(self, scope: MutableMapping[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] == "http":
            await self.traced(scope, receive, send)
        else:
            await self.app(scope, receive, send)


def instrument_engine(engine: AsyncEngine) -> None:
    """Database statements as spans (SQLAlchemy's instrumentation: its declared range stops before SQLAlchemy
    2.1, whose engine events it uses are unchanged, so its version check is skipped; the one engine a service
    process opens is the one instrumented)."""
    if not _enabled:
        return
    from opentelemetry.instrumentation.sqlalchemy import SQLAlchemyInstrumentor

    SQLAlchemyInstrumentor().instrument(engine=engine.sync_engine, enable_commenter=False, skip_dep_check=True)


def tracer() -> trace.Tracer:
    return trace.get_tracer(TRACER_NAME)


def context_fields() -> dict[str, str]:
    """The current span's `traceparent`/`tracestate` and its trace id, for an action about to be sent."""
    if not _enabled:
        return {}
    carrier: dict[str, str] = {}
    propagate.inject(carrier)
    span = trace.get_current_span().get_span_context()
    if span.is_valid:
        carrier["trace_id"] = format(span.trace_id, "032x")
    return carrier


@contextmanager
def action_span(action: DomainAction, attempt: int) -> Iterator[None]:
    """The span of an action handled: a child of the span that sent it."""
    if not _enabled:
        yield
        return
    carrier = {"traceparent": action.traceparent or "", "tracestate": action.tracestate or ""}
    parent = propagate.extract(carrier)
    attributes: dict[str, str | int] = {
        "nooble4.action_type": action.action_type,
        "nooble4.tenant_id": action.tenant_id,
        "nooble4.tier": str(action.tenant_tier),
        "nooble4.attempt": attempt,
        "messaging.system": "redis",
    }
    with tracer().start_as_current_span(
        action.action_type, context=parent, kind=trace.SpanKind.CONSUMER, attributes=attributes
    ):
        yield


@contextmanager
def span(name: str, root: bool = False, **attributes: Any) -> Iterator[None]:
    """A span of its own for a piece of work (a model call, a retrieval); `root`: a new trace (a chat turn)."""
    if not _enabled:
        yield
        return
    context = trace.set_span_in_context(trace.INVALID_SPAN) if root else None
    clean = {f"nooble4.{k}": v for k, v in attributes.items() if v is not None}
    with tracer().start_as_current_span(name, context=context, attributes=clean):
        yield


def current_trace_id() -> str | None:
    if not _enabled:
        return None
    context = trace.get_current_span().get_span_context()
    return format(context.trace_id, "032x") if context.is_valid else None


def set_outcome(outcome: str) -> None:
    if _enabled:
        trace.get_current_span().set_attribute("nooble4.outcome", outcome)


def log_fields(_: Any, __: str, event: MutableMapping[str, Any]) -> MutableMapping[str, Any]:
    """structlog processor: the current span's ids on every log line."""
    if _enabled:
        context = trace.get_current_span().get_span_context()
        if context.is_valid:
            event["trace_id"] = format(context.trace_id, "032x")
            event["span_id"] = format(context.span_id, "016x")
    return event
