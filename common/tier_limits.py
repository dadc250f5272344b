"""The one tier table (DESIGN.md §10): priorities, rates, timeouts and per-tier caps."""

from __future__ import annotations

from dataclasses import dataclass

from common.models.tiers import Tier


@dataclass(frozen=True)
class TierLimits:
    priority: int
    read_weight: int  # share of worker reads under saturation (8:4:2:1)
    requests_per_minute: int | None  # None = unlimited
    requests_per_day: int | None
    timeout_s: int
    max_agents: int | None
    max_collections: int | None
    max_documents_per_day: int | None
    max_file_size_mb: int
    max_history_messages: int
    allowed_model_providers: frozenset[str]
    tokens_per_day: int | None  # model tokens (prompt + completion) of all the tenant's turns; None = no budget
    tokens_per_month: int | None


_LOCAL_ONLY = frozenset({"local"})
_ALL_PROVIDERS = frozenset({"local", "openai", "groq"})

TIER_LIMITS: dict[Tier, TierLimits] = {
    Tier.FREE: TierLimits(4, 1, 10, 100, 30, 1, 1, 10, 5, 10, _LOCAL_ONLY, 200_000, 2_000_000),
    Tier.ADVANCE: TierLimits(3, 2, 50, 1_000, 60, 5, 5, 100, 20, 30, _ALL_PROVIDERS, 1_000_000, 20_000_000),
    Tier.PROFESSIONAL: TierLimits(
        2, 4, 200, 10_000, 120, 25, 25, 1_000, 50, 100, _ALL_PROVIDERS, 10_000_000, 200_000_000
    ),
    Tier.ENTERPRISE: TierLimits(1, 8, None, None, 300, None, None, None, 200, 500, _ALL_PROVIDERS, None, None),
}


def limits_for(tier: Tier | str) -> TierLimits:
    return TIER_LIMITS[Tier(tier)]
