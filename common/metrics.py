"""Prometheus metrics shared by every service (one process = one registry)."""

from prometheus_client import Counter, Gauge, Histogram

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
