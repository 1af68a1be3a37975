"""Retry schedule of the outbox. Pure: no Django, no clock."""

from datetime import timedelta

from apps.events.constants import RETRY_BASE, RETRY_CAP


def retry_delay(attempts: int) -> timedelta:
    """How long to wait after the `attempts`-th failed attempt: 10 s × 2^(attempts-1), at most 1 h.

    1 → 10 s, 2 → 20 s, 3 → 40 s, … 9 → 2560 s, 10 and later → 3600 s.
    """
    if attempts < 1:
        return RETRY_BASE
    # Cap the exponent before multiplying, so a row retried for years cannot overflow timedelta.
    exponent = min(attempts - 1, 32)
    return min(RETRY_BASE * (2**exponent), RETRY_CAP)
