"""PURE: when to poll a failing account again (docs/INTEGRATIONS.md "Backoff"). No Django, no clock.

Exponential from `base`, doubling per consecutive failure, capped at `cap`, with "equal
jitter": the wait is drawn uniformly from [delay/2, delay], so accounts that failed together
(one remote outage) spread out instead of retrying in lockstep, and no wait is shorter than
half the nominal one. A remote `Retry-After` wins when it asks for longer (bounded by
`retry_after_max`, so a nonsense header cannot park an account for a year).
"""

import random
from collections.abc import Callable


def backoff_delay(
    failures: int,
    *,
    base: float,
    cap: float,
    retry_after: float | None = None,
    retry_after_max: float | None = None,
    rand: Callable[[], float] = random.random,
) -> float:
    """Seconds to wait after the `failures`-th consecutive failure (1 = the first).

    base 60, cap 3600: 1 → 30–60 s, 2 → 60–120 s, 3 → 120–240 s, … 7 and later → 1800–3600 s.
    """
    if base <= 0 or cap <= 0:
        raise ValueError("base and cap must be positive")
    exponent = min(max(failures, 1) - 1, 32)  # bounded, so years of failures cannot overflow
    nominal = min(base * (2**exponent), cap)
    delay = nominal / 2 + rand() * nominal / 2
    if retry_after is not None and retry_after > delay:
        delay = retry_after if retry_after_max is None else min(retry_after, retry_after_max)
    return delay
