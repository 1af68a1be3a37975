"""Bearer credentials: generation and keyed hashing with a pepper ring (pure, no ORM).

A secret reads `<kind>_<prefix>_<random>`: `kind` says what it is (khk = API key,
khu = user sign-in token), `prefix` is a public lookup id stored in clear, and the whole
string is stored only as HMAC-SHA256 under the pepper with `pepper_id` (NetBox's
API_TOKEN_PEPPERS). Rotating: add a new highest id; old secrets verify under their own id
and are re-hashed with the current pepper on their next use.
"""

import hashlib
import hmac
import secrets
from collections.abc import Callable
from dataclasses import dataclass, field

from django.conf import settings

API_KEY_KIND = "khk"
USER_TOKEN_KIND = "khu"


@dataclass(frozen=True)
class ParsedSecret:
    kind: str
    prefix: str
    secret: str = field(repr=False)  # never in a traceback, a log line or test output


def current_pepper_id() -> int:
    return max(settings.KEYHOUSE_SECRET_PEPPERS)


def secret_digest(secret: str, pepper_id: int) -> str:
    pepper = settings.KEYHOUSE_SECRET_PEPPERS[pepper_id]
    return hmac.new(pepper.encode(), secret.encode(), hashlib.sha256).hexdigest()


def secret_matches(secret: str, digest: str, pepper_id: int) -> bool:
    if pepper_id not in settings.KEYHOUSE_SECRET_PEPPERS:
        return False
    return hmac.compare_digest(secret_digest(secret, pepper_id), digest)


def secret_generate(kind: str) -> ParsedSecret:
    prefix = secrets.token_hex(6)
    secret = f"{kind}_{prefix}_{secrets.token_urlsafe(32)}"
    return ParsedSecret(kind=kind, prefix=prefix, secret=secret)


def secret_parse(secret: str) -> ParsedSecret | None:
    kind, sep, rest = secret.partition("_")
    prefix, sep2, random_part = rest.partition("_")
    if not (sep and sep2 and len(prefix) == 12 and random_part):
        return None
    return ParsedSecret(kind=kind, prefix=prefix, secret=secret)


# --- credential kinds ------------------------------------------------------------------------
# Authentication reads the kind off a secret and asks the app that issues that kind to find
# the stored credential and say who is calling. Each app registers its kinds in its
# AppConfig.ready() (accounts: API keys and sign-in tokens; locks: a lock's own secret), so
# accounts never imports the apps above it.


@dataclass(frozen=True)
class CredentialKind:
    find: Callable[[str], object | None]  # prefix → the live stored credential (digest, pepper_id), or None
    principal: Callable[[object], object]  # that credential → the Principal calling with it
    # May a process keep it between requests (accounts.credential_cache)? Only for kinds whose
    # every change raises CredentialVersion and that do not expire by the clock.
    cacheable: bool = False


_KINDS: dict[str, CredentialKind] = {}


def credential_kind_register(kind: str, *, find: Callable, principal: Callable, cacheable: bool = False) -> None:
    _KINDS[kind] = CredentialKind(find=find, principal=principal, cacheable=cacheable)


def credential_kind(kind: str) -> CredentialKind | None:
    return _KINDS.get(kind)
