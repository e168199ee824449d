"""Retry waits of outbound deliveries: exponential, capped, with jitter between half and all of the step."""

from __future__ import annotations

from lowcode.integrations.delivery_settings import backoff_with_jitter


def test_the_wait_doubles_per_attempt_within_half_and_all_of_the_step():
    assert backoff_with_jitter(1, 5, 3600, rand=lambda: 0.0) == 2.5
    assert backoff_with_jitter(1, 5, 3600, rand=lambda: 1.0) == 5
    assert backoff_with_jitter(3, 5, 3600, rand=lambda: 0.5) == 15  # step 20: 10 + 5
    assert backoff_with_jitter(30, 5, 3600, rand=lambda: 1.0) == 3600  # capped


def test_jitter_spreads_the_retries_of_one_attempt():
    import random

    rng = random.Random(7)
    waits = {round(backoff_with_jitter(4, 5, 3600, rand=rng.random), 3) for _ in range(50)}
    assert len(waits) > 40 and min(waits) >= 20 and max(waits) <= 40
