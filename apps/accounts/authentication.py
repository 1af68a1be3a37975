"""DRF authentication: `Authorization: Bearer <secret>` or `X-API-Key: <secret>`.

The secret's kind says who issued it: an API key (khk_…) or a sign-in token (khu_…) from
accounts, a lock's own secret (khl_…) from locks. Each app registers its kinds in its
AppConfig.ready() (accounts.credentials.credential_kind_register).
"""

from rest_framework import exceptions
from rest_framework.authentication import BaseAuthentication

from apps.accounts.selectors import credential_authenticate
from apps.accounts.services import credential_rehash, credential_touch


def _presented_secret(request) -> str | None:
    header = request.META.get("HTTP_AUTHORIZATION", "")
    if header:
        scheme, _, value = header.partition(" ")
        if scheme.lower() != "bearer" or not value.strip():
            raise exceptions.AuthenticationFailed("Authorization header must be 'Bearer <secret>'")
        return value.strip()
    api_key = request.META.get("HTTP_X_API_KEY", "").strip()
    return api_key or None


class SecretAuthentication(BaseAuthentication):
    def authenticate(self, request):
        secret = _presented_secret(request)
        if secret is None:
            return None
        found = credential_authenticate(secret)
        if found is None:
            raise exceptions.AuthenticationFailed("invalid, revoked or expired credential")
        principal, credential = found
        credential_touch(credential)
        credential_rehash(credential, secret)
        return principal, credential

    def authenticate_header(self, request):
        return 'Bearer realm="api"'
