"""DPSK passphrases: generation, the rules for chosen ones, the keyed hash that keeps them
unique in a property, and encryption at rest under the KEK ring (apps/keys/kek.py).

A passphrase is never logged: nothing here logs, and callers pass it only to these functions,
to the serializer that shows it to its holder, and to the staff export.
"""

import hashlib
import hmac
import secrets

from django.conf import settings

from apps.keys import kek

# No look-alikes: without 0 O o 1 l I i (and no symbols, which phones' keyboards hide).
ALPHABET = "abcdefghjkmnpqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789"
MIN_LENGTH, MAX_LENGTH = 8, 63  # WPA2 passphrase: 8..63 printable ASCII
PURPOSE = "dpskPassphrase"
ALGORITHM = "utf8"


def generate(length: int) -> str:
    return "".join(secrets.choice(ALPHABET) for _ in range(length))


def chosen_refusal(value: str) -> str | None:
    """Why a chosen passphrase is refused, or None."""
    if not MIN_LENGTH <= len(value) <= MAX_LENGTH:
        return f"Must be {MIN_LENGTH} to {MAX_LENGTH} characters."
    if any(not 0x20 <= ord(ch) <= 0x7E for ch in value):
        return "Use printable ASCII characters only (letters, digits, space and punctuation)."
    return None


def digest(property_id, passphrase: str, pepper_id: int) -> str:
    """HMAC-SHA256 under the secret pepper `pepper_id`, bound to the property."""
    pepper = settings.KEYHOUSE_SECRET_PEPPERS[pepper_id]
    message = f"dpsk:{property_id}:{passphrase}".encode()
    return hmac.new(pepper.encode(), message, hashlib.sha256).hexdigest()


def digests_everywhere(property_id, passphrase: str) -> list[str]:
    """The digest under every pepper in the ring (a row hashed before a pepper rotation)."""
    return [digest(property_id, passphrase, pepper_id) for pepper_id in settings.KEYHOUSE_SECRET_PEPPERS]


def current_pepper_id() -> int:
    return max(settings.KEYHOUSE_SECRET_PEPPERS)


def wrap(passphrase: str, *, unit_user_id) -> tuple[int, bytes]:
    return kek.wrap(passphrase.encode(), key_id=str(unit_user_id), purpose=PURPOSE, algorithm=ALGORITHM)


def unwrap(wrapped: bytes, *, kek_id: int, unit_user_id) -> str:
    secret = kek.unwrap(bytes(wrapped), kek_id=kek_id, key_id=str(unit_user_id), purpose=PURPOSE, algorithm=ALGORITHM)
    return bytes(secret).decode()
