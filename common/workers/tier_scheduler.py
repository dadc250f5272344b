"""Smooth weighted round robin over tiers: 8:4:2:1 reads under saturation, no tier starves."""

from __future__ import annotations

from collections.abc import Iterable

from common.models.tiers import PRIORITY_ORDER, Tier
from common.tier_limits import limits_for


class TierScheduler:
    def __init__(self, tiers: Iterable[Tier] = PRIORITY_ORDER):
        self._weights = {tier: limits_for(tier).read_weight for tier in tiers}
        self._current = dict.fromkeys(self._weights, 0)

    def allocate(self, slots: int, among: Iterable[Tier] | None = None) -> dict[Tier, int]:
        """Split `slots` reads among `among` (default: every tier, in priority order) by weight.

        Whole multiples of the weights are handed out directly; the remainder goes slot by slot
        through smooth weighted round robin, whose state carries over so small reads stay fair.
        """
        candidates = [t for t in (among if among is not None else self._weights) if t in self._weights]
        if not candidates:
            return {}
        total = sum(self._weights[t] for t in candidates)
        rounds, remainder = divmod(slots, total)
        shares = {tier: rounds * self._weights[tier] for tier in candidates}
        for _ in range(remainder):
            for tier in candidates:
                self._current[tier] += self._weights[tier]
            best = max(candidates, key=lambda t: self._current[t])
            self._current[best] -= total
            shares[best] += 1
        return shares
