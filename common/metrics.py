"""Prometheus metrics shared by every service (one process = one registry)."""

from typing import Any

from prometheus_client import Counter, Gauge, Histogram

from common import tracing

ACTIONS = Counter("nooble4_actions_total", "Actions handled by workers", ["service", "action_type", "outcome"])
ACTION_LATENCY = Histogram(
    "nooble4_action_duration_seconds",
    "Handler latency",
    ["service", "action_type"],
    buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60),
)
ERRORS = Counter("nooble4_errors_total", "Errors by type", ["service", "error_type"])
DEAD_LETTERS = Counter("nooble4_dead_letters_total", "Messages moved to a dead-letter stream", ["service"])
STREAM_LENGTH = Gauge("nooble4_stream_length", "Entries in an action stream", ["stream"])
STREAM_PENDING = Gauge("nooble4_stream_pending", "Delivered but unacknowledged entries", ["stream"])
STREAM_LAG = Gauge("nooble4_stream_lag", "Entries not yet delivered to the consumer group", ["stream"])
DEAD_LETTER_LENGTH = Gauge("nooble4_dead_letter_length", "Entries in a dead-letter stream", ["stream"])
IN_FLIGHT = Gauge("nooble4_in_flight", "Handlers running now", ["service"])
STREAM_CONSUMERS = Gauge("nooble4_stream_consumers", "Consumers in the stream's worker group", ["stream"])
RECLAIMED = Counter("nooble4_reclaimed_total", "Idle pending entries reclaimed from other consumers", ["service"])
REDIS_MEMORY = Gauge("nooble4_redis_used_memory_bytes", "Memory Redis uses (INFO memory: used_memory)")
REDIS_MAX_MEMORY = Gauge("nooble4_redis_max_memory_bytes", "Redis's maxmemory (0: no limit)")
FIRST_TOKEN = Histogram(
    "nooble4_chat_first_token_seconds",
    "From a chat turn's start (the orchestrator's) to its first token written back",
    ["tier"],
    buckets=(0.05, 0.1, 0.25, 0.5, 1, 2, 4, 8, 16, 32, 64),
)
LLM_TOKENS = Counter(
    "nooble4_llm_tokens_total", "Model tokens of chat turns, by tenant", ["tenant", "kind"]
)  # kind: prompt | completion; one series per tenant and kind
BUDGET_REFUSALS = Counter("nooble4_budget_refusals_total", "Chat turns refused by a token budget", ["scope", "period"])
BUDGET_OVERRUNS = Counter(
    "nooble4_budget_overruns_total", "Chat turns that finished past a token budget's limit", ["scope", "period"]
)
USAGE_RECORDED = Counter("nooble4_usage_recorded_total", "Usage ledger entries written", ["kind"])
INGESTED_CHUNKS = Counter("nooble4_ingested_chunks_total", "Chunks indexed by finished ingestions", ["tier"])
DOCUMENTS = Counter("nooble4_documents_total", "Documents whose ingestion ended, by outcome", ["outcome"])


class ActionMetrics:
    """Label children cached per (action type, outcome): `.labels()` costs ~5 us per call."""

    def __init__(self, service: str):
        self.service = service
        self._outcomes: dict[tuple[str, str], Any] = {}
        self._latency: dict[str, Any] = {}

    def outcome(self, action_type: str, outcome: str) -> None:
        tracing.set_outcome(outcome)  # the action's span, when tracing is on
        key = (action_type, outcome)
        if (child := self._outcomes.get(key)) is None:
            child = self._outcomes[key] = ACTIONS.labels(self.service, action_type, outcome)
        child.inc()

    def latency(self, action_type: str, seconds: float) -> None:
        if (child := self._latency.get(action_type)) is None:
            child = self._latency[action_type] = ACTION_LATENCY.labels(self.service, action_type)
        child.observe(seconds)
