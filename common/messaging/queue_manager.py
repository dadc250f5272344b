"""The only place Redis key names are built (DESIGN.md §3), hash tags included.

Keys that one command, script or transaction uses together share a hash tag (the part in `{...}`), so they
live in one slot and everything works unchanged on Redis Cluster: a domain's tier streams (one XREADGROUP
reads them all) and its dead letters share `{domain}`; a callback list and its processing lists share the
list's tag; a chat session's hash and event log share `{session id}`; a tenant's embedding cache entries
for one model share a tag (one MGET). Keys used alone need no tag.
"""

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
        return f"{self.prefix}:{{{domain}}}:actions:{Tier(tier).value}"

    def action_streams(self, domain: str) -> dict[Tier, str]:
        """Every tier's stream of a domain, highest priority first."""
        return {tier: self.action_stream(domain, tier) for tier in PRIORITY_ORDER}

    def consumer_group(self, domain: str) -> str:
        return f"{domain}-workers"

    def response_queue(self, origin: str, correlation_id: str) -> str:
        return f"{self.prefix}:{origin}:responses:{correlation_id}"

    def callback_queue(self, origin: str, instance_id: str | None = None) -> str:
        name = f"{origin}:callbacks:{instance_id}" if instance_id else f"{origin}:callbacks"
        return f"{self.prefix}:{{{name}}}"

    def processing_queue(self, queue: str, consumer: str) -> str:
        """Where a callback consumer parks messages while it handles them (crash recovery)."""
        return f"{queue}:processing:{consumer}"

    def dead_letter_stream(self, domain: str) -> str:
        return f"{self.prefix}:{{{domain}}}:dead"

    def session_keys(self, session_id: str) -> tuple[str, str]:
        """A chat session's hash and its event log (its scripts touch both)."""
        session = f"{self.prefix}:orchestrator:state:session:{{{session_id}}}"
        return session, f"{session}:events"

    def embedding_cache_key(self, tenant_id: str, model: str, text_hash: str) -> str:
        return f"{self.prefix}:embedding:cache:{{{tenant_id}:{model}}}:{text_hash}"

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
        parts = key[len(self.prefix) + 1 :].strip("{}").split(":")
        return len(parts) >= 2 and parts[1] in {"responses", "callbacks"} and ":processing:" not in key
