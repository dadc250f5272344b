import asyncio

from common.log import get_logger
from common.messaging.backoff import REDIS_DOWN
from common.tasks import supervised
from common.workers.base_worker import BaseWorker
from ingestion_service.deps import IngestionDeps
from ingestion_service.services.queueing import sweep

log = get_logger(__name__)


class IngestionWorker(BaseWorker[IngestionDeps]):
    """Consumes the `ingestion` tier streams and sweeps documents queued or processing for too long
    (`ingestion_service.services.queueing`). Handlers are registered in `ingestion_service.handlers`."""

    async def _sweep_forever(self) -> None:
        while not self._stopping.is_set():
            try:
                await sweep(self.deps)
            except REDIS_DOWN as exc:
                log.warning("sweep_redis_unavailable", error=str(exc))
            await self._sleep_unless_stopping(self.deps.settings.sweep_interval_s)

    async def run(self) -> None:
        sweeper = supervised("ingestion-sweeper", self._sweep_forever, self._stopping)
        try:
            await super().run()
        finally:
            await asyncio.gather(sweeper)
