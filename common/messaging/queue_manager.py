"""The only place Redis key names are built (DESIGN.md §3)."""

from __future__ import annotations

from dataclasses import dataclass

from common.models.tiers import PRIORITY_ORDER, Tier


@dataclass(frozen=True)
class QueueManager:
    environment: str
    root: str = "nooble4"

    @property
    def prefix(self) -> str:
        return f"{self.root}:{self.environment}"

    def action_stream(self, domain: str, tier: Tier | str) -> str:
        return f"{self.prefix}:{domain}:actions:{Tier(tier).value}"

    def action_streams(self, domain: str) -> dict[Tier, str]:
        """Every tier's stream of a domain, highest priority first."""
        return {tier: self.action_stream(domain, tier) for tier in PRIORITY_ORDER}

    def consumer_group(self, domain: str) -> str:
        return f"{domain}-workers"

    def response_queue(self, origin: str, correlation_id: str) -> str:
        return f"{self.prefix}:{origin}:responses:{correlation_id}"

    def callback_queue(self, origin: str, instance_id: str | None = None) -> str:
        base = f"{self.prefix}:{origin}:callbacks"
        return f"{base}:{instance_id}" if instance_id else base

    def processing_queue(self, queue: str, consumer: str) -> str:
        """Where a callback consumer parks messages while it handles them (crash recovery)."""
        return f"{queue}:processing:{consumer}"

    def dead_letter_stream(self, domain: str) -> str:
        return f"{self.prefix}:{domain}:dead"

    def cache_key(self, domain: str, *parts: str) -> str:
        return ":".join((self.prefix, domain, "cache", *parts))

    def state_key(self, domain: str, *parts: str) -> str:
        return ":".join((self.prefix, domain, "state", *parts))

    def rate_limit_prefix(self, domain: str) -> str:
        """Key prefix handed to the `limits` library, which builds its own keys below it."""
        return f"{self.prefix}:{domain}:ratelimit"

    def is_own_queue(self, key: str) -> bool:
        """Replies and callbacks may only be pushed to this environment's response/callback lists."""
        if not key.startswith(self.prefix + ":"):
            return False
        parts = key[len(self.prefix) + 1 :].split(":")
        return len(parts) >= 2 and parts[1] in {"responses", "callbacks"}
