"""The property's keys as a lock sees them, and signing with them (docs/PROTOCOL.md §6).

A lock trusts the property's Ed25519 `propertyKey`s it was given (`propertyKeys`), and seals
its access logs to the property's X25519 `propertyKey` (`propertySealKey`). After a rotation
the previous signing key keeps co-signing for KEYHOUSE_PROPERTY_KEY_OVERLAP_SECONDS, so locks
that still trust only the old key accept the messages that introduce the new one (§3.4 rule 4).

Private keys are unwrapped only through apps.keys.services.key_private, once per call here.
"""

import json
from dataclasses import dataclass

from django.conf import settings
from django.db.models import Q, QuerySet
from django.utils import timezone

from apps.core.actors import SYSTEM
from apps.core.choices import EntityTypeState
from apps.keys import canonical
from apps.keys.choices import KeyKeyMode, KeyOwnerType, KeyPurpose
from apps.keys.kept import keys_kept
from apps.keys.models import Key
from apps.keys.selectors import (
    is_property_signer,
    key_active,
    property_signing_keys,
    signers_ordered,
    signing_overlap_start,
)
from apps.keys.services import key_private, property_key_ensure
from apps.locks import protocol


@dataclass(frozen=True)
class PropertySigners:
    """What a property signs with: its active key first, then keys rotated out within the
    overlap period."""

    signing: tuple[Key, ...]

    def sign(self, payload: dict, context: str) -> dict[str, str]:
        """The `signatures` map of `payload` under `context`, one entry per signing key."""
        return canonical.sign_payload(payload, context, [key_private(key=key) for key in self.signing])


@dataclass(frozen=True)
class PropertyKeys(PropertySigners):
    """What a property signs with and what its locks are told to trust."""

    seal: Key

    @property
    def trusted(self) -> list[dict]:
        """`propertyKeys`: the Ed25519 keys a lock must trust from now on."""
        return sorted(
            (protocol.public_key_item(k.kid, k.public_key_bytes) for k in self.signing), key=lambda i: i["kid"]
        )

    @property
    def seal_item(self) -> dict:
        """`propertySealKey`: the X25519 key a lock seals its access logs to."""
        return protocol.public_key_item(self.seal.kid, self.seal.public_key_bytes)


def property_keys(property_id, *, actor: str = SYSTEM) -> PropertyKeys:
    """The property's signing and sealing keys (generated on first use)."""
    property_key_ensure(property_id=property_id, actor=actor, key_mode=KeyKeyMode.SIGN_VERIFY)
    seal = property_key_ensure(property_id=property_id, actor=actor, key_mode=KeyKeyMode.ENCRYPT_DECRYPT)
    return PropertyKeys(signing=property_signers(property_id, actor=actor).signing, seal=seal)


def _recent_ed25519_keys(*owner_ids, since) -> QuerySet[Key]:
    """The Ed25519 keys of these owners (a lock, a property) that are active or were rotated out
    since `since`: a superset of the lock's verify key and the property's signers (a few rows)
    that the ORM builds at a fraction of the cost of the exact conditions; `_is_lock_key` and
    `is_property_signer` (apps.keys.selectors) pick them out. (owner_type keeps it on the key_owner_idx index.)"""
    return Key.objects.filter(
        Q(type_state=EntityTypeState.ACTIVE) | Q(rotated_at__gte=since),
        owner_type__in=(KeyOwnerType.LOCK, KeyOwnerType.PROPERTY),
        owner_id__in=owner_ids,
        key_mode=KeyKeyMode.SIGN_VERIFY,
    ).order_by()


def _is_lock_key(key: Key, lock_id) -> bool:
    """The lock's active Ed25519 lockKey: what the server verifies its requests with."""
    return (
        key.owner_type == KeyOwnerType.LOCK
        and str(key.owner_id) == str(lock_id)
        and key.purpose == KeyPurpose.LOCK_KEY
        and key.key_mode == KeyKeyMode.SIGN_VERIFY
        and key.type_state == EntityTypeState.ACTIVE
    )


def _signers_of(keys: list[Key]) -> PropertySigners | None:
    """The property's signers in signing order (apps.keys.selectors.signers_ordered: the active
    key first, then the newest rotated out first); None when none is active."""
    ordered = signers_ordered(keys)
    return None if ordered is None else PropertySigners(signing=ordered)


def property_signers(property_id, *, actor: str = SYSTEM) -> PropertySigners:
    """The property's signing keys only, in one query: the active key and those rotated out
    within the overlap period (the rule is apps.keys.selectors.property_signing_keys, which
    phones share), as `property_keys` orders them. A property with no active key yet gets
    `property_keys` (which generates them)."""
    signing = property_signing_keys([property_id]).get(str(property_id))
    return PropertySigners(signing=signing) if signing is not None else property_keys(property_id, actor=actor)


@dataclass(frozen=True)
class LockSyncKeys:
    """What syncLock checks and signs with: the public halves of the lock's active Ed25519
    lockKey(s), and its property's signers (None when the lock is in no property or the
    property has no active signing key yet: `property_signers` then generates them)."""

    lock_keys: list[bytes]
    signers: PropertySigners | None


def lock_sync_keys(lock) -> LockSyncKeys:
    """The lock's verify key(s) and its property's signers (as `property_signers` has them), in
    one query, or none while this process keeps them (keys.kept: emptied by any key's change).
    The kept rows are the superset read then; which of them still count is decided now."""
    since = signing_overlap_start()
    owners = (lock.pk,) if lock.property_id is None else (lock.pk, lock.property_id)
    version, kept = keys_kept.get([owners])
    keys = kept.get(owners)
    if keys is None:
        keys = tuple(_recent_ed25519_keys(*owners, since=since))
        keys_kept.put(version, {owners: keys})
    signers = [key for key in keys if is_property_signer(key, lock.property_id, since)] if lock.property_id else []
    return LockSyncKeys(
        lock_keys=[bytes(key.public_key) for key in keys if _is_lock_key(key, lock.pk)],
        signers=_signers_of(signers),
    )


def property_seal_key_for(property_id, kid: str | None) -> Key | None:
    """The property's X25519 key a lock sealed to: the one named by `kid` (any state, so logs
    sealed just before a rotation still open), else the active one."""
    keys = Key.objects.filter(
        owner_type=KeyOwnerType.PROPERTY,
        owner_id=property_id,
        purpose=KeyPurpose.PROPERTY_KEY,
        key_mode=KeyKeyMode.ENCRYPT_DECRYPT,
    )
    if kid:
        return keys.filter(kid=kid).first()
    return keys.filter(type_state=EntityTypeState.ACTIVE).first()


def _plain(data) -> dict:
    """Serializer output (ReturnDict, nested OrderedDicts) as plain JSON types, as it is sent."""
    return json.loads(json.dumps(data))


def lock_output_sign(
    *,
    lock,
    data: dict,
    command: str,
    signer_property_id=None,
    uninstall_mode: str | None = None,
    now=None,
) -> tuple[dict, dict[str, str]]:
    """SignedLockOutput (PROTOCOL.md §6.2): the lock's record plus `lockCommand`, signed under
    `keyhouse/lock-command/v1` by the property the lock is in (or, for an uninstall that takes
    it out of its property, by the property it leaves). A lock in no property gets `{}`.

    `lockCommand` tells the lock what to apply: its id and lockKey kid (a command for another
    lock or another key is refused), the property and area, the keys to trust from now on, a
    `sequence` that rises with every provision / install / uninstall, and a validity window.
    """

    now = now or timezone.now()
    keys = property_keys(lock.property_id) if lock.property_id else None
    signer_property_id = signer_property_id or lock.property_id
    signer = keys if signer_property_id == lock.property_id else property_keys(signer_property_id)
    lock_key = key_active(
        owner_type=KeyOwnerType.LOCK, owner_id=lock.pk, purpose=KeyPurpose.LOCK_KEY, key_mode=KeyKeyMode.SIGN_VERIFY
    )
    issued_at = protocol.unix(now)
    payload = {
        **_plain(data),
        "lockCommand": protocol.command_payload(
            command=command,
            lock_id=str(lock.pk),
            lock_kid=lock_key.kid if lock_key else None,
            property_id=str(lock.property_id) if lock.property_id else None,
            area_id=str(lock.area_id) if lock.area_id else None,
            sequence=lock.command_sequence,
            issued_at=issued_at,
            not_after=issued_at + settings.KEYHOUSE_LOCK_COMMAND_TTL_SECONDS,
            property_keys=keys.trusted if keys else [],
            property_seal_key=keys.seal_item if keys else None,
            uninstall_mode=uninstall_mode,
        ),
    }
    signatures = signer.sign(payload, canonical.CONTEXT_LOCK_COMMAND) if signer is not None else {}
    return payload, signatures
