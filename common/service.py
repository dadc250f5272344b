"""What every service shares: its dependencies, its FastAPI app shell and its entry point.

A service declares a `ServiceSpec`; `create_service_app` gives it `/health`, `/ready`, `/metrics` and
the error mapping; `run_service` runs its API and its worker in one process (`--only api|worker`).
"""

from __future__ import annotations

import argparse
import asyncio
import functools
import math
import signal
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from contextlib import AbstractAsyncContextManager, AsyncExitStack, asynccontextmanager, contextmanager
from dataclasses import dataclass, field
from typing import Annotated, Any, Generic, Protocol, TypeVar

import uvicorn
import uvloop
from fastapi import APIRouter, Depends, FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.middleware.cors import CORSMiddleware
from fastapi.responses import JSONResponse, PlainTextResponse, Response
from fastapi.routing import APIRoute
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from pydantic import BaseModel
from redis.asyncio import Redis
from sqlalchemy.ext.asyncio import AsyncEngine, async_sessionmaker
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.types import ASGIApp, Receive, Scope, Send

from common import tracing
from common.auth import TenantResolver
from common.database import create_engine, database_ready, session_factory
from common.errors import DependencyError, NoobleError, as_nooble_error
from common.log import configure_logging, get_logger
from common.messaging.queue_manager import QueueManager
from common.messaging.redis_manager import RedisManager
from common.models.actions import ErrorDetail, ErrorType
from common.settings import CommonSettings, run_in_background
from common.tasks import supervised
from common.validation import reject_unrepresentable
from common.workers.base_worker import BaseWorker
from common.workers.router import ActionRouter

log = get_logger(__name__)


@dataclass
class ServiceDeps:
    """Connections a service's API and worker share; services subclass it to add their clients."""

    settings: CommonSettings
    redis: Redis
    queues: QueueManager
    engine: AsyncEngine
    sessions: async_sessionmaker


def service_deps(request: Request) -> ServiceDeps:
    return request.app.state.deps


AppDeps = Annotated[ServiceDeps, Depends(service_deps)]


@asynccontextmanager
async def open_service_deps(settings: CommonSettings) -> AsyncIterator[ServiceDeps]:
    redis_manager = RedisManager(settings)
    engine = create_engine(settings)
    try:
        yield ServiceDeps(
            settings, redis_manager.client, QueueManager(settings.environment), engine, session_factory(engine)
        )
    finally:
        await engine.dispose()
        await redis_manager.close()


class WorkerDeps(Protocol):
    """What a service's worker needs of its deps (ServiceDeps and its subclasses have it)."""

    redis: Redis


Deps = TypeVar("Deps", bound=WorkerDeps)  # a service's deps, handed to its handlers


@dataclass
class ServiceSpec(Generic[Deps]):
    name: str  # package name, e.g. "query_service"
    domain: str  # action domain, e.g. "query"
    title: str
    settings_class: type[CommonSettings]
    open_deps: Callable[[Any], AbstractAsyncContextManager[Deps]]  # e.g. `open_service_deps`
    router: ActionRouter[Deps] | None  # worker routes; None: a service without action streams (no worker runs)
    api_routers: list[APIRouter] = field(default_factory=list)
    worker_class: type[BaseWorker[Deps]] = BaseWorker
    # What the API needs running beside it (e.g. the orchestrator's callback consumer); entered after deps.
    api_lifespan: Callable[[FastAPI], AbstractAsyncContextManager[None]] | None = None
    # What the worker needs running beside it (e.g. the management service's webhook retries), until the event
    # is set; restarted whenever it fails (common.tasks.supervised).
    worker_background: Callable[[Deps, asyncio.Event], Awaitable[None]] | None = None

    def worker(self, settings: CommonSettings, deps: Deps) -> BaseWorker[Deps]:
        """The service's worker on its streams, sharing `deps` with the API."""
        assert self.router is not None, f"{self.name} has no action streams"
        return self.worker_class(
            redis=deps.redis,
            settings=settings,
            domain=self.domain,
            router=self.router,
            deps=deps,
            service_name=self.name,
        )


class ApiCors:
    """CORS. The REST API (`/api/...`) answers browsers of any origin at this layer: its credentials are bearer
    tokens, never cookies, and which origins a tenant accepts is decided once the caller is known
    (`common.auth.check_origin`: the console's origins and the tenant's allowed origins, else 403). Everything
    else (docs, metrics) only to the console's origins."""

    def __init__(self, app: ASGIApp, console_origins: list[str]):
        options: dict[str, Any] = {
            "allow_methods": ["GET", "POST", "PUT", "PATCH", "DELETE"],
            "allow_headers": ["Authorization", "Content-Type"],
            "expose_headers": ["Retry-After"],
            "max_age": 600,
        }
        self.api = CORSMiddleware(app, allow_origin_regex=r"https?://.+", **options)
        self.other = CORSMiddleware(app, allow_origins=console_origins, **options) if console_origins else app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and scope["path"].startswith("/api/"):
            await self.api(scope, receive, send)
        else:
            await self.other(scope, receive, send)


class ErrorResponse(BaseModel):
    """Every error of every service: `{"error": {error_type, error_code, message, details}}`."""

    error: ErrorDetail


def _error(description: str) -> dict[str, Any]:
    return {"model": ErrorResponse, "description": description}


ERROR_RESPONSES: dict[int | str, dict[str, Any]] = {
    400: _error("The request could not be parsed (e.g. a malformed multipart body)"),
    401: _error("Missing, invalid or revoked credentials (`missing_credentials`, `invalid_api_key`, `invalid_token`)"),
    403: _error("Not allowed for this tenant or tier (`quota_exceeded`, `model_not_allowed`, `forbidden`)"),
    404: _error("Not found, or another tenant's"),
    409: _error("Conflicts with the current state"),
    422: _error("The request failed validation; `details.errors` lists each field (`loc`, `msg`, `type`)"),
    429: _error("The tier's request limit is reached (`rate_limited`); see the `Retry-After` header"),
    503: _error("A dependency is unavailable (`dependency_unavailable`); retry after `Retry-After` seconds"),
    504: _error("A dependency did not answer in time (`timeout`)"),
}


def describe_operations(routes: list[Any]) -> None:
    """Summary from the first line of each endpoint's docstring, description from the rest (once per route)."""
    for route in routes:
        if isinstance(route, APIRoute) and route.description and route.summary is None:
            first, _, rest = route.description.partition("\n")
            route.summary = first.strip().rstrip(".")
            route.description = rest.strip() or first.strip()


def error_response(error: NoobleError | ErrorDetail, status: int | None = None) -> JSONResponse:
    """Every HTTP error body of every service, `{"error": ErrorDetail}`: from a NoobleError (its status), or from
    a detail and a status (routing and validation errors). `Retry-After` when the details say when."""
    detail = error.to_detail() if isinstance(error, NoobleError) else error
    status = status or (error.http_status if isinstance(error, NoobleError) else 500)
    headers = None
    if detail.details and isinstance(retry_after := detail.details.get("retry_after"), int | float):
        headers = {"Retry-After": str(max(1, math.ceil(retry_after)))}
    return JSONResponse(status_code=status, content={"error": detail.model_dump(mode="json")}, headers=headers)


def create_service_app(
    spec: ServiceSpec, settings: CommonSettings, deps: Any = None, *, with_api: bool = True
) -> FastAPI:
    """The service's HTTP app; `with_api=False` (a worker-only process) serves only the ops endpoints, so a
    worker has liveness/readiness probes and its metrics (stream lag, in flight) can be scraped."""

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        async with AsyncExitStack() as stack:
            app.state.deps = deps or await stack.enter_async_context(spec.open_deps(settings))
            app.state.tenant_resolver = TenantResolver(app.state.deps.redis, settings, spec.domain)
            if spec.api_lifespan and with_api:
                await stack.enter_async_context(spec.api_lifespan(app))
            yield

    app = FastAPI(title=spec.title, lifespan=lifespan, dependencies=[Depends(reject_unrepresentable)])
    tracing.instrument_app(app)
    app.add_middleware(ApiCors, console_origins=settings.cors_origins)
    app.state.settings = settings
    app.state.spec = spec

    @app.exception_handler(NoobleError)
    async def nooble_error(_: Request, exc: NoobleError) -> JSONResponse:
        return error_response(exc)

    @app.exception_handler(Exception)
    async def unexpected(_: Request, exc: Exception) -> JSONResponse:
        """Never a bare 500 for what is not a bug: a dependency down is 503 (retry later), data the store
        refuses is 422."""
        error = as_nooble_error(exc)
        if error.retryable:
            error = DependencyError(
                "a dependency is unavailable; try again shortly",
                code="dependency_unavailable",
                details={"retry_after": 2},
            )
        if error.http_status >= 500:
            log.error("request_failed", error=f"{type(exc).__name__}: {exc}", exc_info=exc)
        return error_response(error)

    @app.exception_handler(StarletteHTTPException)
    async def http_error(_: Request, exc: StarletteHTTPException) -> JSONResponse:
        """Routing and protocol errors (404 path, 405 method, 400 unparseable body) in the platform's shape."""
        codes = {400: "bad_request", 404: "not_found", 405: "method_not_allowed", 413: "payload_too_large"}
        detail = ErrorDetail(
            error_type=ErrorType.NOT_FOUND if exc.status_code == 404 else ErrorType.VALIDATION_ERROR,
            error_code=codes.get(exc.status_code, f"http_{exc.status_code}"),
            message=str(exc.detail),
        )
        response = error_response(detail, exc.status_code)
        response.headers.update(exc.headers or {})
        return response

    @app.exception_handler(RequestValidationError)
    async def invalid_request(_: Request, exc: RequestValidationError) -> JSONResponse:
        errors = [{k: v for k, v in e.items() if k in {"loc", "msg", "type"}} for e in exc.errors()]
        detail = ErrorDetail(
            error_type=ErrorType.VALIDATION_ERROR,
            error_code="invalid_request",
            message="request failed validation",
            details={"errors": errors},
        )
        return error_response(detail, 422)

    @app.get("/health", tags=["ops"])
    async def health() -> dict[str, str]:
        """Liveness.

        200 while the process serves HTTP; it checks nothing else (use `/ready` for dependencies)."""
        return {"status": "ok", "service": spec.name}

    @app.get("/ready", tags=["ops"], responses={503: {"description": "Redis or PostgreSQL unreachable"}})
    async def ready(request: Request) -> JSONResponse:
        """Readiness.

        200 when Redis and PostgreSQL answer within 2 s, else 503 with each check's result."""
        checks = await readiness_checks(request.app.state.deps)
        ok = all(v == "ok" for v in checks.values())
        return JSONResponse(
            status_code=200 if ok else 503, content={"status": "ready" if ok else "not_ready", "checks": checks}
        )

    @app.get(
        "/metrics",
        tags=["ops"],
        response_class=PlainTextResponse,
        responses={200: {"content": {CONTENT_TYPE_LATEST: {"schema": {"type": "string"}}}}},
    )
    async def prometheus_metrics() -> Response:
        """Prometheus metrics.

        Text exposition format: actions, latencies, errors, stream length/pending/lag, dead letters, in flight."""
        return Response(generate_latest(), media_type=CONTENT_TYPE_LATEST)

    describe_operations(app.router.routes)
    for router in spec.api_routers if with_api else []:
        describe_operations(router.routes)
        app.include_router(router, responses=ERROR_RESPONSES)
    return app


async def readiness_checks(deps: ServiceDeps) -> dict[str, str]:
    checks: dict[str, str] = {}

    async def redis_ping() -> None:
        await deps.redis.ping()  # type: ignore[misc]  # redis-py types async commands as "Awaitable[T] | T"

    probes: tuple[tuple[str, Callable[[], Awaitable[Any]]], ...] = (
        ("redis", redis_ping),
        ("database", functools.partial(database_ready, deps.engine)),
    )
    for name, probe in probes:
        try:
            async with asyncio.timeout(2):
                await probe()
            checks[name] = "ok"
        except Exception as exc:
            checks[name] = f"error: {type(exc).__name__}"
    return checks


class _Server(uvicorn.Server):
    """uvicorn without its own signal handlers: `run_service` owns SIGTERM/SIGINT."""

    @contextmanager
    def capture_signals(self) -> Iterator[None]:
        yield


def run_service(spec: ServiceSpec, argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog=f"python -m {spec.name}", description=spec.title)
    parser.add_argument("--only", choices=["api", "worker"], help="run only the API or only the worker")
    parser.add_argument("--host", help="bind address (default from settings)")
    parser.add_argument(
        "--port", type=int, help="HTTP port (default from settings); with --only worker: serve only the ops endpoints"
    )
    args = parser.parse_args(argv)
    settings = spec.settings_class()
    configure_logging(settings.log_level, settings.log_json, spec.name)
    tracing.configure_tracing(spec.name)
    if settings.cpu_priority == "background":
        run_in_background()
    uvloop.run(serve(spec, settings, only=args.only, host=args.host, port=args.port))


async def serve_api(server: uvicorn.Server, config: uvicorn.Config) -> None:
    """Run the HTTP server; a port that cannot be bound ends the service at once (non-zero exit)."""
    try:
        await server.serve()
    except SystemExit as exc:  # uvicorn exits this way when it cannot bind
        raise RuntimeError(f"cannot serve HTTP on {config.host}:{config.port}") from exc
    if not server.started and not server.should_exit:
        raise RuntimeError(f"cannot serve HTTP on {config.host}:{config.port}")


async def _finished(task: asyncio.Task[None]) -> None:
    await task


async def serve(
    spec: ServiceSpec,
    settings: CommonSettings,
    *,
    only: str | None = None,
    host: str | None = None,
    port: int | None = None,
) -> None:
    async with spec.open_deps(settings) as deps:
        runners: list[Any] = []
        stoppers: list[Callable[[], None]] = []
        if only == "worker" and spec.router is None:
            raise SystemExit(f"{spec.name} has no action streams: run it without --only worker")
        if only != "api" and spec.router is not None:
            worker = spec.worker(settings, deps)
            runners.append(worker.run())
            stoppers.append(worker.stop)
            if spec.worker_background is not None:
                background, stopping = spec.worker_background, asyncio.Event()
                task = supervised(f"{spec.name}-background", lambda: background(deps, stopping), stopping)
                runners.append(_finished(task))
                stoppers.append(stopping.set)
        if only != "worker" or port is not None:  # a worker given a port serves /health, /ready, /metrics
            app = create_service_app(spec, settings, deps, with_api=only != "worker")
            config = uvicorn.Config(
                app,
                host=host or settings.host,
                port=port or settings.port,
                log_config=None,
                access_log=False,
                lifespan="on",
                # chat frames are small and frequent: compressing them costs CPU on both ends and a zlib
                # context per socket (hundreds of KB) for little gain
                ws_per_message_deflate=False,
            )
            server = _Server(config)
            runners.append(serve_api(server, config))
            stoppers.append(lambda: setattr(server, "should_exit", True))

        def stop(signum: int) -> None:
            log.info("shutdown_requested", signal=signal.Signals(signum).name)
            for stopper in stoppers:
                stopper()

        loop = asyncio.get_running_loop()
        for signum in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(signum, stop, signum)
        log.info("service_starting", service=spec.name, only=only or "api+worker")
        tasks = [asyncio.create_task(runner) for runner in runners]
        await asyncio.wait(tasks, return_when=asyncio.FIRST_COMPLETED)
        for stopper in stoppers:  # one part ended (stop or failure): the others follow
            stopper()
        await asyncio.gather(*tasks)  # re-raises a failure, after everything has stopped
        log.info("service_stopped", service=spec.name)
