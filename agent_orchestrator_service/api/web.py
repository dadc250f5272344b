"""The browser pages, served from the orchestrator's origin with no external resources: the chat page at `/`
and the tenant console at `/console`, which calls each service's REST API directly (CORS allows this origin)."""

from pathlib import Path

from fastapi import APIRouter, Request
from fastapi.responses import FileResponse

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


@router.get("/", include_in_schema=False)
async def chat_page() -> FileResponse:
    """The web chat page.

    Paste an API key, pick an agent, chat; served from this origin with no external resources."""
    return FileResponse(STATIC / "index.html", media_type="text/html")


@router.get("/console", include_in_schema=False)
async def console_page() -> FileResponse:
    return FileResponse(STATIC / "console.html", media_type="text/html")


@router.get("/console/console.js", include_in_schema=False)
async def console_script() -> FileResponse:
    return FileResponse(STATIC / "console.js", media_type="text/javascript")


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
