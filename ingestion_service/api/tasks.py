import json
from typing import Annotated

from fastapi import APIRouter, Query, WebSocket

from common.auth import CurrentTenant, TenantResolver, socket_credential
from common.errors import NoobleError
from common.messaging.redis_manager import MAX_BLOCK_S
from common.tenancy import enter_tenant
from common.websocket_errors import close_with
from ingestion_service.deps import IngestionAppDeps as Deps
from ingestion_service.models.knowledge import TaskOut
from ingestion_service.services.documents import get_task
from ingestion_service.services.progress import TERMINAL, task_events_key

router = APIRouter(tags=["tasks"])


@router.get("/api/v1/tasks/{task_id}")
async def task(task_id: str, deps: Deps, tenant: CurrentTenant) -> TaskOut:
    """Get an ingestion task.

    Stage, percent and chunk counts; live progress is also streamed on `WS /ws/ingestion/{task_id}`."""
    return await get_task(deps.engine, tenant.tenant_id, task_id)


@router.websocket("/ws/ingestion/{task_id}")
async def task_progress(websocket: WebSocket, task_id: str, token: Annotated[str | None, Query()] = None) -> None:
    """Progress events `{status, stage, percent, chunks_total, chunks_embedded, error}` until done or failed."""
    await websocket.accept()
    deps = websocket.app.state.deps
    resolver: TenantResolver = websocket.app.state.tenant_resolver
    try:
        tenant = await resolver.resolve(await socket_credential(websocket, token))
        enter_tenant(tenant.tenant_id)  # this socket's database reads see only its tenant's rows
        current = await get_task(deps.engine, tenant.tenant_id, task_id)
    except NoobleError as exc:
        await close_with(websocket, exc)
        return
    snapshot = current.model_dump(
        mode="json",
        include={"id", "document_id", "status", "stage", "percent", "chunks_total", "chunks_embedded", "error"},
    )
    await websocket.send_json({"task_id": snapshot.pop("id"), **snapshot})
    last_id = "0-0"
    status = current.status
    key = task_events_key(deps.queues, task_id)
    while status not in TERMINAL:
        reply = await deps.redis.xread({key: last_id}, count=100, block=int(MAX_BLOCK_S * 500))
        if not reply:  # quiet: the row tells whether the task ended (e.g. its events expired)
            status = (await get_task(deps.engine, tenant.tenant_id, task_id)).status
            continue
        for _, entries in reply:
            for entry_id, fields in entries:
                last_id = entry_id
                event = json.loads(fields["e"])
                status = event["status"]
                await websocket.send_json(event)
    await websocket.close()
