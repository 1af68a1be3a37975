"""Rate limits per credential and per client address, kept in the shared cache (Redis in
production), so they hold across gunicorn workers and machines. Rates: REST_FRAMEWORK
DEFAULT_THROTTLE_RATES in settings.

Counting is a fixed window with one atomic counter per window (`cache.incr`), not DRF's
list of request timestamps: at thousands of requests a minute that list would be read,
unpickled and written back on every request, and two processes could overwrite each
other's updates. Without REDIS_URL the cache is per process, so each worker counts alone.

When the cache is down (Redis stopped, unreachable) the limits fail open: the request goes
through and a warning is logged (at most once a minute per process), because refusing every
call while Redis restarts would take the whole API down with it.
"""

import logging
import time

from rest_framework.throttling import SimpleRateThrottle

from apps.core.principal import Principal

logger = logging.getLogger("keyhouse.api")

_WARN_EVERY_SECONDS = 60
_last_warning = 0.0


def _warn_store_down() -> None:
    global _last_warning
    now = time.monotonic()
    if now - _last_warning >= _WARN_EVERY_SECONDS:
        _last_warning = now
        logger.warning("rate-limit store (cache) unavailable: limits are not enforced until it answers", exc_info=True)


class FixedWindowRateThrottle(SimpleRateThrottle):
    """At most `num_requests` per `duration`-second window, counted atomically."""

    def allow_request(self, request, view):
        if self.rate is None:
            return True
        self.key = self.get_cache_key(request, view)
        if self.key is None:
            return True
        self.now = self.timer()
        window = int(self.now // self.duration)
        self.window_end = (window + 1) * self.duration
        counter = f"{self.key}:{window}"
        try:
            count = self._count(counter)
        except Exception:  # noqa: BLE001 - each cache backend raises its own connection errors
            _warn_store_down()
            return True
        return count <= self.num_requests

    def _count(self, counter: str) -> int:
        self.cache.add(counter, 0, timeout=self.duration + 1)
        try:
            return self.cache.incr(counter)
        except ValueError:  # evicted between add and incr
            self.cache.set(counter, 1, timeout=self.duration + 1)
            return 1

    def wait(self):
        return max(self.window_end - self.now, 1)


class PrincipalRateThrottle(FixedWindowRateThrottle):
    """Per API key / sign-in token; unauthenticated calls are left to the address limit.

    The API docs and schema views authenticate by admin session, so there `request.user` is
    a Django `User` (or AnonymousUser), not a Principal: counted per staff account then."""

    scope = "principal"

    def get_cache_key(self, request, view):
        principal = request.user
        if isinstance(principal, Principal):
            ident = f"{principal.kind}:{principal.id}"
        elif getattr(principal, "is_authenticated", False):
            ident = f"session:{principal.pk}"  # a Django user signed in to the admin (the docs pages)
        else:
            return None  # anonymous: the address limit covers it
        return self.cache_format % {"scope": self.scope, "ident": ident}


class AddressRateThrottle(FixedWindowRateThrottle):
    """Per client address (X-Forwarded-For honoured only behind KEYHOUSE_NUM_PROXIES proxies)."""

    scope = "address"

    def get_cache_key(self, request, view):
        return self.cache_format % {"scope": self.scope, "ident": self.get_ident(request)}


class SignInRateThrottle(AddressRateThrottle):
    """Tight per-address limit on password and code sign-in, against guessing."""

    scope = "sign_in"


class EmailChangeRateThrottle(FixedWindowRateThrottle):
    """Per person, on changing one's sign-in email: each request mails an address of the
    caller's choice, and each confirmation guesses a code."""

    scope = "email_change"

    def get_cache_key(self, request, view):
        principal = request.user
        if principal is None or principal.user_id is None:
            return None
        return self.cache_format % {"scope": self.scope, "ident": f"user:{principal.user_id}"}
