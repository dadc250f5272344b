import asyncio

from common.workers.base_worker import BaseWorker
from common.workers.callback_consumer import CallbackConsumer
from common.workers.replicas import CallbackAdopter
from common.workers.router import ActionRouter


class IngestionWorker(BaseWorker):
    """Consumes the `ingestion` tier streams, and this replica's callback list (embedding batches).

    Handlers are registered in `ingestion_service.handlers`.
    """

    async def run(self) -> None:
        callbacks = ActionRouter()
        callbacks.add("ingestion.embedding.done", self.deps.callbacks)
        consumer = CallbackConsumer(
            redis=self.redis,
            settings=self.settings,
            queue=self.deps.callback_queue,
            consumer=self.deps.instance_id,
            router=callbacks,
        )
        adopter = CallbackAdopter(self.redis, self.queues, "ingestion", self.deps.instance_id)
        tasks = [consumer.start(), adopter.start()]
        try:
            await super().run()  # returns after in-flight work finished: its callbacks were needed until then
        finally:
            consumer.stop()
            adopter.stop()
            await asyncio.gather(*tasks)
