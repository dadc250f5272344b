"""The one sweeper of chat turns' deadlines.

A turn's deadline is set once, by the orchestrator as the turn starts (the tier's timeout plus a grace for the
execution service to say so itself), stored with the timeout event that ends it, and indexed in one sorted
set. The execution service stops a model still writing at the turn's timeout and ends the turn itself; this
sweeper ends the turns nobody ended (their worker died or hangs): every orchestrator replica runs it, each
overdue turn is ended once (by a script), and its execution is cancelled. It costs a replica a couple of Redis
commands per second however many sockets are open; sockets only read their session's log.
"""

from __future__ import annotations

import asyncio
import time

from agent_orchestrator_service.clients.execution_client import ExecutionClient
from agent_orchestrator_service.services.session_store import SessionStore
from common.log import get_logger
from common.tasks import sleep_unless

log = get_logger(__name__)
MAX_WAIT_S = 1.0  # how late a replica may notice a deadline (another replica's new turn may come due sooner)


class DeadlineSweeper:
    def __init__(self, store: SessionStore, execution: ExecutionClient, stopping: asyncio.Event):
        self.store = store
        self.execution = execution
        self.stopping = stopping

    async def run(self) -> None:
        """Sweep until `stopping` is set; run it under `common.tasks.supervised`."""
        while not self.stopping.is_set():
            await self.sweep()
            next_ms = await self.store.next_deadline_ms()
            wait_s = MAX_WAIT_S if next_ms is None else (next_ms - time.time() * 1000) / 1000
            await sleep_unless(self.stopping, min(MAX_WAIT_S, max(0.01, wait_s)))

    async def sweep(self) -> int:
        """End every turn past its deadline; returns how many this replica ended."""
        ended = 0
        now_ms = int(time.time() * 1000)
        for session_id, task_id in await self.store.overdue_turns(now_ms):
            if not await self.store.expire_turn(session_id, task_id, now_ms):
                continue  # ended in time, refused, or ended by another replica: nothing to read
            session = await self.store.get(session_id)  # the session outlives its turn: who to cancel for
            if session is None:
                continue
            ended += 1
            log.warning("turn_deadline_passed", session_id=session_id, task_id=task_id)
            await self.execution.cancel(
                tenant_id=session.tenant_id, tier=session.tier, session_id=session_id, task_id=task_id
            )
        return ended
