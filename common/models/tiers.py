from enum import StrEnum


class Tier(StrEnum):
    """Tenant subscription tiers, highest priority first in `PRIORITY_ORDER`."""

    FREE = "free"
    ADVANCE = "advance"
    PROFESSIONAL = "professional"
    ENTERPRISE = "enterprise"


PRIORITY_ORDER: tuple[Tier, ...] = (Tier.ENTERPRISE, Tier.PROFESSIONAL, Tier.ADVANCE, Tier.FREE)
