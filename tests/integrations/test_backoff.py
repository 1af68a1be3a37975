"""apps.integrations.backoff: exponential, jittered, capped; Retry-After wins when longer."""

import pytest

from apps.integrations.backoff import backoff_delay


def _range(failures, **kw):
    low = backoff_delay(failures, base=60, cap=3600, rand=lambda: 0.0, **kw)
    high = backoff_delay(failures, base=60, cap=3600, rand=lambda: 1.0, **kw)
    return low, high


def test_doubles_per_failure_between_half_and_whole_and_stops_at_the_cap():
    assert _range(1) == (30, 60)
    assert _range(2) == (60, 120)
    assert _range(3) == (120, 240)
    assert _range(6) == (960, 1920)
    assert _range(7) == (1800, 3600)
    assert _range(10_000) == (1800, 3600)  # years of failures: no overflow, still capped


def test_jitter_spreads_accounts_that_failed_together():
    import random

    rng = random.Random(7)
    delays = {round(backoff_delay(3, base=60, cap=3600, rand=rng.random)) for _ in range(50)}
    assert len(delays) > 20 and min(delays) >= 120 and max(delays) <= 240


def test_a_longer_retry_after_wins_a_shorter_one_does_not():
    assert _range(1, retry_after=7200) == (7200, 7200)  # beyond the cap: the remote knows best
    assert _range(7, retry_after=5) == (1800, 3600)
    assert _range(1, retry_after=10**9, retry_after_max=86400) == (86400, 86400)


def test_zero_failures_counts_as_the_first_and_nonsense_settings_are_refused():
    assert _range(0) == (30, 60)
    with pytest.raises(ValueError):
        backoff_delay(1, base=0, cap=10)
