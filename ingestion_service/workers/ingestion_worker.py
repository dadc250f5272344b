import asyncio

from common.log import get_logger
from common.messaging.backoff import REDIS_DOWN
from common.tasks import supervised
from common.workers.base_worker import BaseWorker
from common.workers.callback_consumer import CallbackConsumer
from common.workers.replicas import CallbackAdopter
from common.workers.router import ActionRouter
from ingestion_service.deps import IngestionDeps
from ingestion_service.services.queueing import sweep

log = get_logger(__name__)


class IngestionWorker(BaseWorker):
    """Consumes the `ingestion` tier streams, and this replica's callback list (embedding batches); sweeps
    documents queued or processing for too long (`ingestion_service.services.queueing`).

    Handlers are registered in `ingestion_service.handlers`.
    """

    async def _sweep_forever(self) -> None:
        while not self._stopping.is_set():
            try:
                await sweep(self.deps)
            except REDIS_DOWN as exc:
                log.warning("sweep_redis_unavailable", error=str(exc))
            await self._sleep_unless_stopping(self.deps.settings.sweep_interval_s)

    async def run(self) -> None:
        callbacks: ActionRouter[IngestionDeps] = ActionRouter()
        callbacks.add("ingestion.embedding.done", self.deps.callbacks)
        consumer = CallbackConsumer(
            redis=self.redis,
            settings=self.settings,
            queue=self.deps.callback_queue,
            consumer=self.deps.instance_id,
            router=callbacks,
        )
        adopter = CallbackAdopter(self.redis, self.queues, "ingestion", self.deps.instance_id)
        tasks = [
            consumer.start(),
            adopter.start(),
            supervised("ingestion-sweeper", self._sweep_forever, self._stopping),
        ]
        try:
            await super().run()  # returns after in-flight work finished: its callbacks were needed until then
        finally:
            consumer.stop()
            adopter.stop()
            await asyncio.gather(*tasks)
