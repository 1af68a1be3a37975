"""Token buckets for the portal API (docs/PORTAL.md "Rate limit").

Per property: `KEYHOUSE_PORTAL_RATE_BURST` (100) tokens, refilled at
`KEYHOUSE_PORTAL_RATE_PER_SECOND` (80) per second; each request takes one. Failed
authentications take from a bucket per client address instead (a stranger guessing tokens
cannot use up a property's allowance).

State:
- With Redis (`REDIS_CACHE_URL`, set with REDIS_URL): one Lua script per request, atomic in
  Redis and timed by Redis `TIME`, so every gunicorn worker and machine shares one bucket and
  one clock. A fixed window cannot express a token bucket (its refill is continuous).
- Without Redis: the Django cache under a process lock, which is exact only inside one
  process (locmem is per process): `make run` and tests. Documented, not hidden.
- Redis down or slow (200 ms timeout): the request goes through and the failure is logged
  (at most once a minute per process), so a cache outage is not a portal outage.
"""

import logging
import math
import threading
import time
from dataclasses import dataclass

from django.conf import settings
from django.core.cache import cache

logger = logging.getLogger("keyhouse.portal.ratelimit")

LUA = """
local burst = tonumber(ARGV[1])
local rate = tonumber(ARGV[2])
local cost = tonumber(ARGV[3])
local t = redis.call('TIME')
local now = tonumber(t[1]) + tonumber(t[2]) / 1000000
local state = redis.call('HMGET', KEYS[1], 'tokens', 'ts')
local tokens = tonumber(state[1])
local ts = tonumber(state[2])
if tokens == nil or ts == nil then
  tokens = burst
  ts = now
end
tokens = math.min(burst, tokens + math.max(0, now - ts) * rate)
local allowed = 0
local wait = 0
if tokens >= math.max(cost, 1) then
  tokens = tokens - cost
  allowed = 1
else
  wait = (math.max(cost, 1) - tokens) / rate
end
redis.call('HSET', KEYS[1], 'tokens', tostring(tokens), 'ts', tostring(now))
redis.call('PEXPIRE', KEYS[1], math.ceil(burst / rate * 1000) + 1000)
return {allowed, tostring(wait)}
"""


@dataclass(frozen=True)
class Decision:
    allowed: bool
    wait: float  # seconds until one token is there again (0 when allowed)

    @property
    def retry_after(self) -> int:
        """Whole seconds for `Retry-After` (at least 1)."""
        return max(1, math.ceil(self.wait))


def bucket_take(tokens: float, ts: float, now: float, *, burst: int, rate: float, cost: int = 1):
    """Pure token-bucket step: refill since `ts`, then take `cost` (0 = only look).
    Returns (decision, tokens left, now)."""
    tokens = min(burst, tokens + max(0.0, now - ts) * rate)
    need = max(cost, 1)
    if tokens >= need:
        return Decision(True, 0.0), tokens - cost, now
    return Decision(False, (need - tokens) / rate), tokens, now


class _CacheBuckets:
    """The single-process fallback in the Django cache."""

    lock = threading.Lock()

    def take(self, key: str, *, burst: int, rate: float, cost: int, clock=time.monotonic) -> Decision:
        with self.lock:
            tokens, ts = cache.get(key) or (burst, clock())
            decision, tokens, ts = bucket_take(tokens, ts, clock(), burst=burst, rate=rate, cost=cost)
            cache.set(key, (tokens, ts), timeout=int(burst / rate) + 2)
            return decision


class _RedisBuckets:
    def __init__(self, url: str):
        import redis

        self.client = redis.Redis.from_url(url, socket_timeout=0.2, socket_connect_timeout=0.2)
        self.script = self.client.register_script(LUA)
        self.last_warning = 0.0

    def take(self, key: str, *, burst: int, rate: float, cost: int) -> Decision:
        import redis

        try:
            allowed, wait = self.script(keys=[key], args=[burst, rate, cost])
        except redis.RedisError as exc:
            if time.monotonic() - self.last_warning > 60:
                self.last_warning = time.monotonic()
                logger.warning("portal rate limit: Redis unavailable, letting requests through (%s)", exc)
            return Decision(True, 0.0)
        return Decision(bool(int(allowed)), float(wait))


_backend = None
_backend_url = None


def _buckets():
    global _backend, _backend_url
    url = getattr(settings, "REDIS_CACHE_URL", "") or ""
    if _backend is None or url != _backend_url:
        _backend = _RedisBuckets(url) if url else _CacheBuckets()
        _backend_url = url
    return _backend


def property_take(property_id) -> Decision:
    """One request against the property's bucket."""
    return _buckets().take(
        f"keyhouse:portal:property:{property_id}",
        burst=settings.KEYHOUSE_PORTAL_RATE_BURST,
        rate=settings.KEYHOUSE_PORTAL_RATE_PER_SECOND,
        cost=1,
    )


def failed_auth(address: str, *, cost: int) -> Decision:
    """A failed authentication from `address` (cost 1), or a look before trying (cost 0):
    `KEYHOUSE_PORTAL_FAILED_AUTH_BURST` failures, then one more every 6 seconds."""
    return _buckets().take(
        f"keyhouse:portal:auth-fail:{address}",
        burst=settings.KEYHOUSE_PORTAL_FAILED_AUTH_BURST,
        rate=1 / 6,
        cost=cost,
    )
