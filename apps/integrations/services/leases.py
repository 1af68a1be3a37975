"""Poll leases in the cache (Redis in production), so a poll writes no database row to claim
its account (docs/INTEGRATIONS.md "Polling").

A lease is a cache key holding "<token> <expiry timestamp>", added atomically (`cache.add`,
Redis `SET NX`) with a time-to-live of POLL_LEASE_SECONDS. Two keys per account:

- `queued`: taken by the dispatcher when it enqueues the account's poll (a slow queue never
  gets it twice); dropped when that poll finishes.
- `polling`: taken by the poll itself (two workers never poll one account at once); dropped
  when it finishes.

A crashed worker's lease ends on its own: the key's time-to-live, or its expiry passed on the
caller's clock (a frozen clock in tests), whichever comes first.
"""

import uuid
from datetime import datetime, timedelta

from django.core.cache import cache

from apps.integrations.constants import POLL_LEASE_SECONDS

QUEUED = "queued"
POLLING = "polling"


def _key(kind: str, account_id) -> str:
    return f"integrations:poll-lease:{kind}:{account_id}"


def _expiry(value) -> float:
    try:
        return float(str(value).split(" ", 1)[1])
    except (IndexError, ValueError):
        return 0.0


def lease_take(kind: str, account_id, *, now: datetime) -> str | None:
    """The lease's token if it was free (or its holder's time ran out), else None."""
    key = _key(kind, account_id)
    token = f"{uuid.uuid4().hex} {(now + timedelta(seconds=POLL_LEASE_SECONDS)).timestamp()}"
    if cache.add(key, token, timeout=POLL_LEASE_SECONDS):
        return token
    held = cache.get(key)
    if held is not None and _expiry(held) > now.timestamp():
        return None
    # gone since the add, or past its expiry (a crashed holder): take it over
    cache.set(key, token, timeout=POLL_LEASE_SECONDS)
    return token


def lease_drop(kind: str, account_id, token: str | None = None) -> None:
    """Free the lease (only if it is still the given token's, when one is given)."""
    key = _key(kind, account_id)
    if token is None or cache.get(key) == token:
        cache.delete(key)


def lease_held(kind: str, account_id, *, now: datetime) -> bool:
    held = cache.get(_key(kind, account_id))
    return held is not None and _expiry(held) > now.timestamp()
