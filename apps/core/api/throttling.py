"""Rate limits per credential and per client address, kept in the shared cache (Redis in
production), so they hold across gunicorn workers and machines. Rates: REST_FRAMEWORK
DEFAULT_THROTTLE_RATES in settings."""

from rest_framework.throttling import SimpleRateThrottle


class PrincipalRateThrottle(SimpleRateThrottle):
    """Per API key / sign-in token; unauthenticated calls are left to the address limit."""

    scope = "principal"

    def get_cache_key(self, request, view):
        principal = request.user
        if principal is None:
            return None
        return self.cache_format % {"scope": self.scope, "ident": f"{principal.kind}:{principal.id}"}


class AddressRateThrottle(SimpleRateThrottle):
    """Per client address (X-Forwarded-For honoured only behind KEYHOUSE_NUM_PROXIES proxies)."""

    scope = "address"

    def get_cache_key(self, request, view):
        return self.cache_format % {"scope": self.scope, "ident": self.get_ident(request)}


class SignInRateThrottle(AddressRateThrottle):
    """Tight per-address limit on password and code sign-in, against guessing."""

    scope = "sign_in"
