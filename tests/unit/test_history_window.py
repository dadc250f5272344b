"""The history window: the newest messages within both limits, and a window of a window plus newer messages
is the window of all of them (what lets the execution service extend its copy after a turn)."""

from __future__ import annotations

import random

from common.models.conversations import history_window


def test_newest_messages_within_both_limits_oldest_first() -> None:
    weights = [5, 1, 1, 3, 2]  # oldest first
    newest_first = list(reversed(range(len(weights))))
    assert history_window(newest_first, 10, 100, lambda i: weights[i]) == [0, 1, 2, 3, 4]
    assert history_window(newest_first, 2, 100, lambda i: weights[i]) == [3, 4]
    assert history_window(newest_first, 10, 6, lambda i: weights[i]) == [2, 3, 4]  # 6 = 1 + 3 + 2
    assert history_window(newest_first, 10, 1, lambda i: weights[i]) == []  # the newest alone is too heavy
    assert history_window(newest_first, 0, 100, lambda i: weights[i]) == []


def test_a_window_extended_by_newer_messages_equals_the_window_of_all() -> None:
    rng = random.Random(7)
    for _ in range(2_000):
        weights = [rng.randint(0, 30) for _ in range(rng.randint(0, 30))]
        cut = rng.randint(0, len(weights))
        max_messages, max_tokens = rng.randint(0, 12), rng.randint(0, 150)

        older, newer = list(range(cut)), list(range(cut, len(weights)))
        kept = _window(older, weights, max_messages, max_tokens)
        assert _window(kept + newer, weights, max_messages, max_tokens) == _window(
            older + newer, weights, max_messages, max_tokens
        )


def _window(ids: list[int], weights: list[int], max_messages: int, max_tokens: int) -> list[int]:
    return history_window(reversed(ids), max_messages, max_tokens, lambda i: weights[i])
