"""The browser pages, served from the orchestrator's origin with no external resources: the chat page at `/`,
the tenant console at `/console` (which calls each service's REST API directly; CORS allows this origin), and
the embeddable chat widget (`/widget.js`, whose frame `/widget/frame` may be framed only by the tenant's allowed
origins). `/static/chat.js` is the chat view all three share."""

from pathlib import Path
from typing import Annotated

from fastapi import APIRouter, Query, Request
from fastapi.responses import FileResponse

from common.auth import TenantResolver
from common.errors import NoobleError
from common.launcher.services import SERVICE_PORTS

STATIC = Path(__file__).resolve().parent.parent / "static"
router = APIRouter(tags=["web"])
CONSOLE_APIS = {
    "management": "agent_management_service",
    "ingestion": "ingestion_service",
    "query": "query_service",
    "conversation": "conversation_service",
    "orchestrator": "agent_orchestrator_service",
}
OWN_PAGES_ONLY = {"Content-Security-Policy": "frame-ancestors 'self'", "X-Content-Type-Options": "nosniff"}


def page(name: str, headers: dict[str, str] | None = None) -> FileResponse:
    return FileResponse(STATIC / name, media_type="text/html", headers=headers or OWN_PAGES_ONLY)


def script(name: str) -> FileResponse:
    return FileResponse(STATIC / name, media_type="text/javascript", headers={"X-Content-Type-Options": "nosniff"})


@router.get("/", include_in_schema=False)
async def chat_page() -> FileResponse:
    """The web chat page.

    Paste an API key, pick an agent, chat; served from this origin with no external resources."""
    return page("index.html")


@router.get("/console", include_in_schema=False)
async def console_page() -> FileResponse:
    return page("console.html")


@router.get("/console/console.js", include_in_schema=False)
async def console_script() -> FileResponse:
    return script("console.js")


@router.get("/static/chat.js", include_in_schema=False)
async def chat_script() -> FileResponse:
    return script("chat.js")


@router.get("/widget.js", include_in_schema=False)
async def widget_script() -> FileResponse:
    """The embeddable widget's loader: any site may load it; what it frames decides who may use it."""
    return FileResponse(
        STATIC / "widget.js",
        media_type="text/javascript",
        headers={"Cross-Origin-Resource-Policy": "cross-origin", "Cache-Control": "public, max-age=300"},
    )


@router.get("/widget/frame", include_in_schema=False)
async def widget_frame(request: Request, tenant: Annotated[str, Query(max_length=64)] = "") -> FileResponse:
    """The widget's chat, framed by the tenant's own pages only (`frame-ancestors`: its allowed origins)."""
    resolver: TenantResolver = request.app.state.tenant_resolver
    try:
        origins = " ".join(await resolver.tenant_origins(tenant)) if tenant else ""
    except NoobleError:  # the tenant's policy cannot be read now: framed by nobody else (fails closed)
        origins = ""
    return page(
        "widget.html",
        {"Content-Security-Policy": f"frame-ancestors 'self' {origins}".strip(), "X-Content-Type-Options": "nosniff"},
    )


@router.get("/widget/frame.js", include_in_schema=False)
async def widget_frame_script() -> FileResponse:
    return script("widget-frame.js")


@router.get("/favicon.ico", include_in_schema=False)
async def favicon() -> FileResponse:
    return FileResponse(STATIC / "favicon.svg", media_type="image/svg+xml", headers={"Cache-Control": "max-age=86400"})


@router.get("/console/config.json", include_in_schema=False)
async def console_config(request: Request) -> dict[str, dict[str, str]]:
    """Where the console reaches each API: configured, else this host with the standard ports shifted as
    this orchestrator's own port is."""
    configured = request.app.state.settings.public_service_urls
    offset = (request.url.port or 80) - SERVICE_PORTS["agent_orchestrator_service"]
    base = f"{request.url.scheme}://{request.url.hostname}"
    return {
        "apis": {
            api: configured.get(api) or f"{base}:{SERVICE_PORTS[service] + offset}"
            for api, service in CONSOLE_APIS.items()
        }
    }
