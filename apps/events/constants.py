"""Outbox tuning and the built-in event sources (docs/API.md "Events (transactional outbox)")."""

from datetime import timedelta

# The sweep leaves rows younger than this to their own on-commit enqueue.
SWEEP_GRACE = timedelta(seconds=30)
# At most this many rows are enqueued per sweep (oldest first); the next sweep takes the rest.
SWEEP_BATCH = 1000

# Retry after a failed attempt: RETRY_BASE × 2^(attempts-1), at most RETRY_CAP. No jitter: the
# schedule is deterministic (tests check it), and the 60 s sweep spreads the load anyway.
RETRY_BASE = timedelta(seconds=10)
RETRY_CAP = timedelta(hours=1)
# An event still unprocessed after FAILING_AFTER_ATTEMPTS attempts (all failed, or it would be
# processed) is "failing": still retried, never dropped, but listed by the admin filter and
# `failing=true`. Five attempts are about 2.5 minutes of retries (10 + 20 + 40 + 80 s).
FAILING_AFTER_ATTEMPTS = 5

# Event sources known from the start: the entity kinds before the dot of an eventName.
# Apps add theirs with `registry.event_source_register(...)` (or just by registering a
# handler); a source that already occurs in the log is accepted too (selectors.event_source_list).
EVENT_SOURCES = (
    "property",
    "area",
    "group",
    "user",
    "user_device",
    "api_key",
    "auth_token",
    "lock",
    "key",
    "firmware",
    "schedule",
    "grant",
    "block",
)
