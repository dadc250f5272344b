"""Token budgets on real Redis: a hold is all budgets or none, a turn's hold lapses if its worker never
settles, and settling counts a task once."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from common.budgets import Budgets
from common.contracts.management import BudgetLimit

DAY = BudgetLimit(scope="agent", period="day", limit=10)
MONTH = BudgetLimit(scope="tenant", period="month", limit=100)
NOW = datetime(2026, 12, 7, 12, 0, tzinfo=UTC)


async def test_a_hold_is_taken_in_every_budget_or_in_none(redis, queues) -> None:
    budgets = Budgets(redis, queues)
    assert await budgets.reserve("t", "a", "task-1", 6, [MONTH, DAY], hold_s=60, now=NOW) is None
    refused = await budgets.reserve("t", "a", "task-2", 6, [MONTH, DAY], hold_s=60, now=NOW)
    assert refused is not None and refused.budget == DAY and refused.resets_at == datetime(2026, 12, 8, tzinfo=UTC)
    status = {(b.scope, b.period): b for b in await budgets.status("t", {"month": 100}, {"a": {"day": 10}}, now=NOW)}
    assert status[("tenant", "month")].held == 6  # the refused turn held nothing in the month either


async def test_the_hold_of_a_turn_whose_worker_died_lapses_and_a_settle_counts_once(redis, queues) -> None:
    budgets = Budgets(redis, queues)
    assert await budgets.reserve("t", "b", "dead-turn", 8, [DAY], hold_s=30, now=NOW) is None
    assert await budgets.reserve("t", "b", "next", 8, [DAY], hold_s=30, now=NOW + timedelta(seconds=10)) is not None
    # past the dead turn's deadline its hold is gone: the next turn fits
    assert await budgets.reserve("t", "b", "next", 8, [DAY], hold_s=30, now=NOW + timedelta(seconds=31)) is None
    first = await budgets.settle("t", "b", "next", 7, now=NOW + timedelta(seconds=40))
    again = await budgets.settle("t", "b", "next", 7, now=NOW + timedelta(seconds=41))  # a redelivery
    assert first[("agent", "day")] == 7 and again == {}
