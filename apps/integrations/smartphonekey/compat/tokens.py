"""Keyhouse-signed JWTs for the SmartphoneKey compatibility endpoint (PyJWT, HS256).

The signing key is derived from SECRET_KEY with HMAC-SHA256 under a purpose label, so it is
never SECRET_KEY itself and never stored; `kid` names it (the first 16 hex digits of its
SHA-256), so a key derived from a rotated SECRET_KEY refuses older tokens by `kid`. `exp` is at
most one hour after `iat`; `sub` is the id of the Keyhouse API key the token was issued to.
"""

import datetime as dt
import hashlib
import hmac

import jwt
from django.conf import settings
from django.utils import timezone

ALGORITHM = "HS256"
AUDIENCE = "keyhouse:compat:smartphonekey"
ISSUER = "keyhouse"
LIFETIME_MAX_SECONDS = 3600


class TokenRefused(Exception):
    """The bearer token is not one Keyhouse issued, or no longer valid; the message says why."""


def _key() -> bytes:
    return hmac.new(settings.SECRET_KEY.encode(), b"keyhouse:compat:smartphonekey:jwt", hashlib.sha256).digest()


def key_id() -> str:
    return hashlib.sha256(_key()).hexdigest()[:16]


def token_issue(*, api_key_id, now: dt.datetime | None = None) -> tuple[str, dt.datetime]:
    """(token, expiresAt) for the API key `api_key_id`."""
    now = now or timezone.now()
    lifetime = min(int(getattr(settings, "KEYHOUSE_SMARTPHONEKEY_TOKEN_SECONDS", 3600)), LIFETIME_MAX_SECONDS)
    expires = now + dt.timedelta(seconds=lifetime)
    claims = {"sub": str(api_key_id), "iss": ISSUER, "aud": AUDIENCE, "iat": now, "exp": expires}
    return jwt.encode(claims, _key(), algorithm=ALGORITHM, headers={"kid": key_id()}), expires


def token_subject(token: str) -> str:
    """The API key id a valid token was issued to; TokenRefused saying why otherwise."""
    try:
        header = jwt.get_unverified_header(token)
    except jwt.InvalidTokenError:
        raise TokenRefused("not a JWT") from None
    if header.get("kid") != key_id():
        raise TokenRefused("unknown signing key (kid)")
    try:
        claims = jwt.decode(
            token,
            _key(),
            algorithms=[ALGORITHM],
            audience=AUDIENCE,
            issuer=ISSUER,
            options={"require": ["exp", "iat", "sub", "aud", "iss"]},
        )
    except jwt.ExpiredSignatureError:
        raise TokenRefused("token expired") from None
    except jwt.InvalidTokenError:
        raise TokenRefused("invalid token") from None
    if claims["exp"] - claims["iat"] > LIFETIME_MAX_SECONDS:
        raise TokenRefused("token lifetime above one hour")
    return claims["sub"]
