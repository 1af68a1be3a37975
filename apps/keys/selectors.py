"""Reads of key material: the active key of an owner, lookups by protocol kid, and which of a
property's keys sign (for its locks and for phones: one rule, below)."""

from collections.abc import Iterable
from datetime import datetime, timedelta
from uuid import UUID

from django.conf import settings
from django.db.models import Q, QuerySet
from django.utils import timezone

from apps.core.choices import EntityTypeState
from apps.keys.choices import KeyKeyMode, KeyOwnerType, KeyPurpose
from apps.keys.models import Key


def key_active(*, owner_type: str, owner_id: UUID, purpose: str, key_mode: str) -> Key | None:
    """The one active key of an owner for a purpose and mode, or None."""
    return Key.objects.filter(
        owner_type=owner_type, owner_id=owner_id, purpose=purpose, key_mode=key_mode, type_state=EntityTypeState.ACTIVE
    ).first()


def key_get_by_kid(*, kid: str) -> Key | None:
    """The key a `signatures` map entry names (any state: old signatures name rotated keys)."""
    return Key.objects.filter(kid=kid).first()


def key_list_for_owner(*, owner_type: str, owner_id: UUID) -> QuerySet[Key]:
    """Every key of one owner, newest first (the active ones and their rotated predecessors)."""
    return Key.objects.filter(owner_type=owner_type, owner_id=owner_id).order_by("-id")


# --- which property keys sign ----------------------------------------------------------------
#
# One rule: a property signs with its active Ed25519 propertyKey, co-signed by keys rotated out
# within KEYHOUSE_PROPERTY_KEY_OVERLAP_SECONDS whose private half Keyhouse holds
# (`property_signing_keys`). Locks get them all (apps.locks.signing): a lock verifies a key map
# or command with the keys it trusted *before* it, so the map that introduces a new key must
# carry the old one's signature too (PROTOCOL.md §3.4 rule 4, §6). Phones get the head of the
# same rule, the active key only (`property_active_signing_keys`, apps.devices): a phone
# verifies a sync answer with the `signingKeys` of the map it holds *after* it, which that
# answer delivers (§7.4 step 3), so it needs no co-signature, and its map lists the one key.


def signing_overlap_start() -> datetime:
    """Keys rotated out at or after this still co-sign (KEYHOUSE_PROPERTY_KEY_OVERLAP_SECONDS)."""
    return timezone.now() - timedelta(seconds=settings.KEYHOUSE_PROPERTY_KEY_OVERLAP_SECONDS)


def is_property_signer(key: Key, property_id, since: datetime) -> bool:
    """A key the property signs with: its active Ed25519 propertyKey, or one rotated out since
    `since` whose private half Keyhouse holds."""
    return (
        key.owner_type == KeyOwnerType.PROPERTY
        and str(key.owner_id) == str(property_id)
        and key.purpose == KeyPurpose.PROPERTY_KEY
        and key.key_mode == KeyKeyMode.SIGN_VERIFY
        and (
            key.type_state == EntityTypeState.ACTIVE
            or (
                key.type_state == EntityTypeState.INACTIVE
                and key.rotated_at is not None
                and key.rotated_at >= since
                and key.wrapped_private_key is not None
            )
        )
    )


def is_property_active_signer(key: Key, property_id) -> bool:
    """`key` is the property's active signing key now: the one `property_active_signing_keys`
    reads (one active row per owner, purpose and mode: Key's constraint)."""
    return key.type_state == EntityTypeState.ACTIVE and is_property_signer(key, property_id, timezone.now())


def signers_ordered(keys: Iterable[Key]) -> tuple[Key, ...] | None:
    """One property's signers (keys `is_property_signer` picked) in signing order: the active key
    first, then the newest rotated out first; None when none is active."""
    keys = list(keys)
    active = [key for key in keys if key.type_state == EntityTypeState.ACTIVE]
    if not active:
        return None
    previous = sorted((key for key in keys if key.type_state != EntityTypeState.ACTIVE), key=lambda k: k.rotated_at)
    return (active[0], *reversed(previous))


def property_signing_keys(property_ids: Iterable) -> dict[str, tuple[Key, ...]]:
    """{str(property_id): its signers, as `signers_ordered`} of those with an active signing key,
    in the order of their active keys' ids (the order phones have always been signed in); one
    query."""
    ids = [str(property_id) for property_id in property_ids]
    since = signing_overlap_start()
    rows = Key.objects.filter(
        Q(type_state=EntityTypeState.ACTIVE) | Q(rotated_at__gte=since),
        owner_type=KeyOwnerType.PROPERTY,
        owner_id__in=ids,
        purpose=KeyPurpose.PROPERTY_KEY,
        key_mode=KeyKeyMode.SIGN_VERIFY,
    ).order_by()
    by_property: dict[str, list[Key]] = {}
    for key in rows:
        if is_property_signer(key, key.owner_id, since):
            by_property.setdefault(str(key.owner_id), []).append(key)
    signers = ((property_id, signers_ordered(keys)) for property_id, keys in by_property.items())
    return dict(sorted(((p, keys) for p, keys in signers if keys is not None), key=lambda item: item[1][0].pk))


def property_active_signing_keys(property_ids: Iterable) -> dict[str, Key]:
    """{str(property_id): its active signing key} of those that have one (what phones are given
    and signed for, see above), in the order of the keys' ids; one query."""
    return {property_id: keys[0] for property_id, keys in property_signing_keys(property_ids).items()}
