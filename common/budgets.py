"""Token budgets: what a tenant and an agent have spent this UTC day and month, and the turns holding a share.

Counters live in Redis, shared by every replica. A turn about to start holds its reservation (the agent's
`max_tokens`) in every budget it is checked against, in one Lua script: it starts only when, in each budget,
spent + held + its reservation stays within the limit, so two replicas can never both take the last tokens.
As the turn ends, `settle` swaps its reservation for what it really used (once per task): a turn that ran past
its reservation still finishes, and the overrun shows as spent above the limit. A reservation carries the
turn's deadline and lapses by itself if the turn's worker dies before settling.

The usage ledger (PostgreSQL) is the record of what was used; these counters are what is checked.
"""

from __future__ import annotations

import calendar
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from pydantic import BaseModel
from redis.asyncio import Redis

from common.contracts.management import BudgetLimit, BudgetPeriod, BudgetScope
from common.messaging.queue_manager import QueueManager

PERIODS: tuple[BudgetPeriod, ...] = ("day", "month")
SCOPES: tuple[BudgetScope, ...] = ("tenant", "agent")
SETTLED_TTL_S = 3 * 24 * 3600

# KEYS: per budget checked, its spent counter then its holds hash. ARGV 1-4: now_ms, task_id, amount,
# hold_until_ms; then one limit per budget. Returns 0 (held everywhere) or the 1-based index of the first
# budget that refuses.
_RESERVE = """
local now, task, amount, hold_until = tonumber(ARGV[1]), ARGV[2], tonumber(ARGV[3]), tonumber(ARGV[4])
local n = #KEYS / 2
for i = 1, n do
  local spent = tonumber(redis.call('GET', KEYS[2 * i - 1]) or '0')
  local held = 0
  local holds = redis.call('HGETALL', KEYS[2 * i])
  for j = 1, #holds, 2 do
    local value = holds[j + 1]
    local sep = string.find(value, ':', 1, true)
    if tonumber(string.sub(value, sep + 1)) <= now then
      redis.call('HDEL', KEYS[2 * i], holds[j])
    elseif holds[j] ~= task then
      held = held + tonumber(string.sub(value, 1, sep - 1))
    end
  end
  if spent + held + amount > tonumber(ARGV[4 + i]) then return i end
end
for i = 1, n do
  redis.call('HSET', KEYS[2 * i], task, amount .. ':' .. hold_until)
  redis.call('PEXPIREAT', KEYS[2 * i], hold_until + 60000)
end
return 0
"""

# KEYS: the settled marker, then per budget tracked its spent counter and holds hash. ARGV: task_id, used,
# marker ttl, then one expiry (epoch s) per budget. Returns each counter's new value (empty when settled before).
_SETTLE = """
if redis.call('SET', KEYS[1], '1', 'NX', 'EX', ARGV[3]) == false then return {} end
local spent = {}
for i = 1, (#KEYS - 1) / 2 do
  redis.call('HDEL', KEYS[2 * i + 1], ARGV[1])
  spent[i] = redis.call('INCRBY', KEYS[2 * i], ARGV[2])
  redis.call('EXPIREAT', KEYS[2 * i], ARGV[3 + i])
end
return spent
"""


class BudgetStatus(BaseModel):
    """One budget as a tenant's admin sees it."""

    scope: BudgetScope
    agent_id: str | None = None
    period: BudgetPeriod
    limit: int | None  # None: spending is counted, nothing is refused
    spent: int
    held: int  # reserved by turns running now
    left: int | None
    resets_at: datetime


@dataclass(frozen=True)
class BudgetRefusal:
    budget: BudgetLimit
    resets_at: datetime

    @property
    def message(self) -> str:
        whose = "the tenant's" if self.budget.scope == "tenant" else "this agent's"
        return (
            f"{whose} token budget for the {self.budget.period} ({self.budget.limit:,} tokens) is used up; "
            f"it resets at {self.resets_at.isoformat()}"
        )

    def retry_after(self, now: datetime) -> float:
        return max(0.0, (self.resets_at - now).total_seconds())


def period_start(period: BudgetPeriod, now: datetime) -> datetime:
    day = now.astimezone(UTC).replace(hour=0, minute=0, second=0, microsecond=0)
    return day if period == "day" else day.replace(day=1)


def resets_at(period: BudgetPeriod, now: datetime) -> datetime:
    start = period_start(period, now)
    if period == "day":
        return start + timedelta(days=1)
    return start + timedelta(days=calendar.monthrange(start.year, start.month)[1])


class Budgets:
    def __init__(self, redis: Redis, queues: QueueManager):
        self.redis = redis
        self.queues = queues
        self._reserve = redis.register_script(_RESERVE)
        self._settle = redis.register_script(_SETTLE)

    def _keys(
        self, tenant_id: str, scope: BudgetScope, agent_id: str, period: BudgetPeriod, now: datetime
    ) -> list[str]:
        owner = tenant_id if scope == "tenant" else f"{tenant_id}:{agent_id}"
        stamp = period_start(period, now).strftime("%Y%m%d" if period == "day" else "%Y%m")
        base = self.queues.state_key("budget", _slot(tenant_id), scope, owner, stamp)
        return [f"{base}:spent", f"{base}:held"]

    async def reserve(
        self,
        tenant_id: str,
        agent_id: str,
        task_id: str,
        amount: int,
        limits: list[BudgetLimit],
        hold_s: float,
        now: datetime | None = None,
    ) -> BudgetRefusal | None:
        """Holds `amount` tokens for the turn in every budget of `limits`, or says which refuses (nothing held)."""
        if not limits:
            return None
        now = now or datetime.now(UTC)
        keys = [k for b in limits for k in self._keys(tenant_id, b.scope, agent_id, b.period, now)]
        now_ms = int(now.timestamp() * 1000)
        args: list[str | int] = [now_ms, task_id, amount, now_ms + int(hold_s * 1000), *(b.limit for b in limits)]
        refused = int(await self._reserve(keys=keys, args=args))
        if refused == 0:
            return None
        budget = limits[refused - 1]
        return BudgetRefusal(budget=budget, resets_at=resets_at(budget.period, now))

    async def settle(
        self, tenant_id: str, agent_id: str, task_id: str, used: int, now: datetime | None = None
    ) -> dict[tuple[BudgetScope, BudgetPeriod], int]:
        """The turn used `used` tokens: its holds go, its use counts in the tenant's and agent's day and month
        (counted once per task). Returns each budget's spent total after it (empty when settled before)."""
        now = now or datetime.now(UTC)
        budgets: list[tuple[BudgetScope, BudgetPeriod]] = [(s, p) for s in SCOPES for p in PERIODS]
        keys = [self.queues.state_key("budget", _slot(tenant_id), "settled", task_id)]
        expiries = []
        for scope, period in budgets:
            keys += self._keys(tenant_id, scope, agent_id, period, now)
            expiries.append(int((resets_at(period, now) + timedelta(days=1)).timestamp()))
        totals = await self._settle(keys=keys, args=[task_id, used, SETTLED_TTL_S, *expiries])
        return {budget: int(total) for budget, total in zip(budgets, totals, strict=False)}

    async def status(
        self,
        tenant_id: str,
        tenant_limits: dict[BudgetPeriod, int | None],
        agents: dict[str, dict[BudgetPeriod, int | None]],
        now: datetime | None = None,
    ) -> list[BudgetStatus]:
        """What is spent, held and left in the tenant's budgets and in each of `agents`' (agent id: limits)."""
        now = now or datetime.now(UTC)
        now_ms = now.timestamp() * 1000
        rows: list[tuple[BudgetScope, str | None, BudgetPeriod, int | None]] = [
            ("tenant", None, period, tenant_limits.get(period)) for period in PERIODS
        ]
        rows += [("agent", agent, period, limits.get(period)) for agent, limits in agents.items() for period in PERIODS]
        async with self.redis.pipeline(transaction=False) as pipe:
            for scope, agent, period, _ in rows:
                spent_key, held_key = self._keys(tenant_id, scope, agent or "", period, now)
                pipe.get(spent_key)
                pipe.hvals(held_key)
            replies = await pipe.execute()
        out = []
        for i, (scope, agent, period, limit) in enumerate(rows):
            spent = int(replies[2 * i] or 0)
            held = sum(int(a) for a, until in (v.split(":") for v in replies[2 * i + 1]) if float(until) > now_ms)
            out.append(
                BudgetStatus(
                    scope=scope,
                    agent_id=agent,
                    period=period,
                    limit=limit,
                    spent=spent,
                    held=held,
                    left=None if limit is None else max(0, limit - spent - held),
                    resets_at=resets_at(period, now),
                )
            )
        return out


def _slot(tenant_id: str) -> str:
    """A tenant's budget keys share one Redis Cluster slot: each script touches one tenant's keys only."""
    return f"{{{tenant_id}}}"
