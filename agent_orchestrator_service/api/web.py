from pathlib import Path

from fastapi import APIRouter
from fastapi.responses import FileResponse

STATIC = Path(__file__).resolve().parent.parent / "static"
router = APIRouter(tags=["web"])


@router.get("/", include_in_schema=False)
async def chat_page() -> FileResponse:
    """The web chat page.

    Paste an API key, pick an agent, chat; served from this origin with no external resources."""
    return FileResponse(STATIC / "index.html", media_type="text/html")
