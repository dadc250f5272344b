from collections import Counter
from typing import Any

import pytest
from pydantic import BaseModel

from common.contracts.contract import send
from common.messaging import QueueManager
from common.models.actions import DomainAction
from common.models.tiers import PRIORITY_ORDER, Tier
from common.settings import CommonSettings
from common.tier_limits import TIER_LIMITS, limits_for
from common.workers.router import ActionRouter
from common.workers.tier_scheduler import TierScheduler


def test_key_names_follow_the_contract() -> None:
    q = QueueManager("prod")
    # DESIGN.md's names, with Redis Cluster hash tags ({...}) around what is used together
    assert q.action_stream("query", Tier.ENTERPRISE) == "nooble4:prod:{query}:actions:enterprise"
    assert list(q.action_streams("query")) == list(PRIORITY_ORDER)
    assert q.consumer_group("query") == "query-workers"
    assert q.response_queue("execution", "c1") == "nooble4:prod:execution:responses:c1"
    assert q.callback_queue("orchestrator") == "nooble4:prod:{orchestrator:callbacks}"
    assert q.callback_queue("orchestrator", "i1") == "nooble4:prod:{orchestrator:callbacks:i1}"
    assert q.dead_letter_stream("query") == "nooble4:prod:{query}:dead"


def test_replies_only_go_to_this_environments_reply_lists() -> None:
    q = QueueManager("prod")
    assert q.is_own_queue(q.response_queue("execution", "c1"))
    assert q.is_own_queue(q.callback_queue("orchestrator", "i1")) and q.is_own_queue(q.callback_queue("ingestion"))
    assert not q.is_own_queue(QueueManager("other").response_queue("execution", "c1"))
    assert not q.is_own_queue(q.action_stream("query", "free"))  # never into another service's stream
    assert not q.is_own_queue(q.processing_queue(q.callback_queue("orchestrator", "i1"), "c1"))
    assert not q.is_own_queue("somebody:else")


def test_keys_used_together_share_a_hash_slot() -> None:
    """So scripts, multi-stream reads and BLMOVE work on Redis Cluster (CROSSSLOT otherwise)."""
    from redis.crc import key_slot

    q = QueueManager("prod")
    streams = [*q.action_streams("query").values(), q.dead_letter_stream("query")]
    assert len({key_slot(s.encode()) for s in streams}) == 1
    queue = q.callback_queue("orchestrator", "replica-1")
    assert key_slot(queue.encode()) == key_slot(q.processing_queue(queue, "replica-1").encode())
    session, events = q.session_keys("s-123")
    assert key_slot(session.encode()) == key_slot(events.encode())
    cache = [q.embedding_cache_key("t1", "all-MiniLM-L6-v2", h) for h in ("a" * 64, "b" * 64)]
    assert len({key_slot(k.encode()) for k in cache}) == 1
    assert key_slot(q.action_stream("query", "free").encode()) != key_slot(
        q.action_stream("ingestion", "free").encode()
    )


def test_scheduler_follows_weights_and_never_starves() -> None:
    scheduler = TierScheduler()
    totals: Counter[Tier] = Counter()
    for _ in range(150):  # one slot at a time: the hardest case for fairness
        totals.update(scheduler.allocate(1))
    assert totals == {Tier.ENTERPRISE: 80, Tier.PROFESSIONAL: 40, Tier.ADVANCE: 20, Tier.FREE: 10}
    assert scheduler.allocate(30) == {Tier.ENTERPRISE: 16, Tier.PROFESSIONAL: 8, Tier.ADVANCE: 4, Tier.FREE: 2}
    assert scheduler.allocate(7, [Tier.FREE]) == {Tier.FREE: 7}
    assert scheduler.allocate(5, []) == {}


def test_tier_table_is_complete_and_ordered() -> None:
    assert set(TIER_LIMITS) == set(Tier)
    priorities = [limits_for(t).priority for t in PRIORITY_ORDER]
    assert priorities == sorted(priorities)
    assert limits_for("enterprise").requests_per_minute is None
    assert limits_for(Tier.FREE).requests_per_minute == 10 and limits_for(Tier.FREE).timeout_s == 30


def test_router_registers_once_and_validates() -> None:
    router: ActionRouter[Any] = ActionRouter()

    class Payload(BaseModel):
        n: int

    contract = send("a.b.c", Payload)

    @router.handle(contract)
    async def handler(action: DomainAction, payload: Payload, deps: Any) -> None:
        return None

    route = router.get("a.b.c")
    assert route is not None and route.parse({"n": "3"}) == Payload(n=3)
    assert router.get("x.y.z") is None
    with pytest.raises(ValueError, match="already registered"):
        router.add(contract, handler)


@pytest.mark.parametrize("environment", ["development", "test", "production"])
def test_jwt_is_off_by_default_and_placeholder_secrets_are_refused_everywhere(
    monkeypatch: pytest.MonkeyPatch, environment: str
) -> None:
    monkeypatch.delenv("NOOBLE4_JWT_SECRET", raising=False)
    monkeypatch.setenv("NOOBLE4_ENVIRONMENT", environment)
    assert CommonSettings().jwt_secret is None  # JWT auth off: no default secret exists
    for placeholder in ("too-short", "development-only-secret-change-me-in-production", "CHANGEME"):
        monkeypatch.setenv("NOOBLE4_JWT_SECRET", placeholder)
        with pytest.raises(ValueError, match="JWT_SECRET"):
            CommonSettings()
    monkeypatch.setenv("NOOBLE4_JWT_SECRET", "a-real-secret-that-is-long-enough-for-hs256")
    assert CommonSettings().jwt_secret is not None


def test_settings_refuse_a_reclaim_that_would_steal_running_work() -> None:
    with pytest.raises(ValueError, match="claim_idle_ms"):
        CommonSettings(claim_idle_ms=1_000, reclaim_interval_s=1.0)
