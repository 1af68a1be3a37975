"""The retry schedule is pure and deterministic: 10 s × 2^(attempts-1), capped at 1 h."""

from datetime import timedelta

import pytest

from apps.events.backoff import retry_delay

SCHEDULE = [10, 20, 40, 80, 160, 320, 640, 1280, 2560, 3600, 3600, 3600]


@pytest.mark.parametrize(("attempts", "seconds"), list(enumerate(SCHEDULE, start=1)))
def test_retry_delay_doubles_up_to_one_hour(attempts, seconds):
    assert retry_delay(attempts) == timedelta(seconds=seconds)


def test_retry_delay_stays_at_the_cap_forever():
    assert retry_delay(10_000) == timedelta(hours=1)


def test_retry_delay_before_any_attempt_is_the_base():
    assert retry_delay(0) == timedelta(seconds=10)
