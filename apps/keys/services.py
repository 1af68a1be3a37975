"""Writes for keys: generate (server-held), register (party-held), rotate, deactivate, rewrap.

Each write is one transaction with its event (`key.generated`, `key.registered`,
`key.rotated`, `key.deactivated`, `key.kek_rotated`). Private key bytes never reach a log,
an event payload, an exception message or a repr: they live in crypto.SecretBytes and are
unwrapped only by `key_private`. See docs/PROTOCOL.md §1 (who holds which key) and §5 (KEK).
"""

import logging
from dataclasses import dataclass, field
from uuid import UUID

from django.db import IntegrityError, transaction
from django.utils import timezone

from apps.core.choices import EntityTypeState
from apps.core.exceptions import ApplicationError, ConflictError
from apps.events.services import event_append
from apps.keys import crypto, kek
from apps.keys.choices import MODE_ALGORITHM, KeyKeyMode, KeyOwnerType, KeyPurpose
from apps.keys.holders import wrapped_secret_holders
from apps.keys.models import Key
from apps.keys.selectors import key_active

logger = logging.getLogger("keyhouse.keys")

# Event ref field for each owner type, so listEvents?lockId=… also finds that lock's keys.
_OWNER_REF = {
    KeyOwnerType.PROPERTY: "property_id",
    KeyOwnerType.LOCK: "lock_id",
    KeyOwnerType.USER_DEVICE: "user_device_id",
    KeyOwnerType.USER: "user_id",
}


class KeyCustodyError(ApplicationError):
    """The operation needs the private key, and Keyhouse does not hold it (a party-held key)."""


def _event(event_name: str, key: Key, actor: str, **payload) -> None:
    refs = {"key_id": key.id, "property_id": key.property_id}
    owner_ref = _OWNER_REF[key.owner_type]
    if owner_ref != "property_id" or key.property_id is None:
        refs[owner_ref] = key.owner_id
    body = {
        "kid": key.kid,
        "purpose": key.purpose,
        "keyMode": key.key_mode,
        "ownerType": key.owner_type,
        "ownerId": str(key.owner_id),
        "serverHeld": key.server_held,
        **payload,
    }
    event_append(event_name=event_name, actor=actor, payload=body, **refs)


def _new_key(
    *, owner_type: str, owner_id: UUID, property_id: UUID | None, purpose: str, key_mode: str, actor: str
) -> Key:
    if key_mode not in MODE_ALGORITHM:
        raise ApplicationError(f"keyMode: {key_mode!r} is not one of {', '.join(KeyKeyMode.values)}")
    return Key(
        owner_type=owner_type,
        owner_id=owner_id,
        property_id=property_id,
        purpose=purpose,
        key_mode=key_mode,
        algorithm=MODE_ALGORITHM[key_mode],
        last_modified_by=actor,
    )


def _wrap_into(key: Key, private: bytes) -> None:
    key.kek_id, key.wrapped_private_key = kek.wrap(
        private, key_id=str(key.id), purpose=key.purpose, algorithm=key.algorithm
    )


def _save_new(key: Key) -> Key:
    if key_active(owner_type=key.owner_type, owner_id=key.owner_id, purpose=key.purpose, key_mode=key.key_mode):
        raise ConflictError(f"the {key.owner_type} already has an active {key.purpose} for {key.key_mode}")
    key.full_clean()
    try:
        with transaction.atomic():
            key.save(force_insert=True)
    except IntegrityError:
        # full_clean saw no duplicate, so a concurrent writer got there first.
        raise ConflictError("the owner already has an active key of this purpose and mode") from None
    return key


@transaction.atomic
def key_generate(
    *,
    owner_type: str,
    owner_id: UUID,
    property_id: UUID | None,
    purpose: str,
    key_mode: str,
    actor: str,
) -> Key:
    """A new key pair whose private key Keyhouse keeps, wrapped under the current KEK (event `key.generated`)."""
    key = _new_key(
        owner_type=owner_type,
        owner_id=owner_id,
        property_id=property_id,
        purpose=purpose,
        key_mode=key_mode,
        actor=actor,
    )
    pair = crypto.generate(key.algorithm)
    key.public_key, key.kid = pair.public, pair.kid
    _wrap_into(key, pair.private)
    _save_new(key)
    _event("key.generated", key, actor, kekId=key.kek_id)
    logger.info("key %s generated: %s for %s %s", key.id, key, key.owner_type, key.owner_id)
    return key


@transaction.atomic
def key_register_public(
    *,
    owner_type: str,
    owner_id: UUID,
    property_id: UUID | None,
    purpose: str,
    key_mode: str,
    public_key: bytes,
    actor: str,
) -> Key:
    """Record a public key whose private half stays with its owner (a lock or phone); event `key.registered`.

    The same public key can be registered once only (its kid is unique), so one device can
    never claim another's key.
    """
    key = _new_key(
        owner_type=owner_type,
        owner_id=owner_id,
        property_id=property_id,
        purpose=purpose,
        key_mode=key_mode,
        actor=actor,
    )
    try:
        key.public_key = crypto.check_public_key(key.algorithm, public_key)
    except crypto.KeyFormatError as exc:
        raise ApplicationError(f"publicKey: {exc}", fields={"publicKey": [str(exc)]}) from None
    key.kid = crypto.key_id(key.algorithm, key.public_key)
    if Key.objects.filter(kid=key.kid).exists():
        raise ConflictError("publicKey: this public key is already registered", fields={"publicKey": ["In use."]})
    _save_new(key)
    _event("key.registered", key, actor)
    logger.info("key %s registered: %s for %s %s", key.id, key, key.owner_type, key.owner_id)
    return key


def key_private(*, key: Key) -> crypto.SecretBytes:
    """The raw private key of a server-held key, unwrapped with its KEK. Never log the result.

    Raises KeyCustodyError for a party-held key, kek.KekError if its KEK is gone or the
    blob does not open (tampered, or copied from another row).
    """
    if not key.server_held:
        raise KeyCustodyError(f"key {key.kid} is held by its owner; Keyhouse has no private key for it")
    return kek.unwrap(
        bytes(key.wrapped_private_key),
        kek_id=key.kek_id,
        key_id=str(key.id),
        purpose=key.purpose,
        algorithm=key.algorithm,
    )


@transaction.atomic
def key_rotate(*, key: Key, actor: str, public_key: bytes | None = None) -> Key:
    """Replace an active key with a new one of the same owner, purpose and mode (event `key.rotated`).

    A server-held key gets a freshly generated successor; a party-held key's owner supplies the
    new `public_key`. The old row turns inactive with `rotated_at` and stays for verifying what
    it signed before. Telling locks and phones about the new key is the protocol's job.
    """
    old = Key.objects.select_for_update().get(pk=key.pk)
    if old.type_state != EntityTypeState.ACTIVE:
        raise ConflictError(f"key {old.kid} is {old.type_state}; only an active key can be rotated")
    if old.server_held and public_key is not None:
        raise ApplicationError("publicKey: a server-held key is rotated by generating, not by registering")
    if not old.server_held and public_key is None:
        raise KeyCustodyError("publicKey: the owner holds this key, so it must supply the new public key")
    new = _new_key(
        owner_type=old.owner_type,
        owner_id=old.owner_id,
        property_id=old.property_id,
        purpose=old.purpose,
        key_mode=old.key_mode,
        actor=actor,
    )
    if public_key is None:
        pair = crypto.generate(new.algorithm)
        new.public_key, new.kid = pair.public, pair.kid
        _wrap_into(new, pair.private)
    else:
        try:
            new.public_key = crypto.check_public_key(new.algorithm, public_key)
        except crypto.KeyFormatError as exc:
            raise ApplicationError(f"publicKey: {exc}", fields={"publicKey": [str(exc)]}) from None
        new.kid = crypto.key_id(new.algorithm, new.public_key)
        if Key.objects.filter(kid=new.kid).exists():
            raise ConflictError("publicKey: this public key is already registered", fields={"publicKey": ["In use."]})
    old.type_state, old.rotated_at, old.last_modified_by = EntityTypeState.INACTIVE, timezone.now(), actor
    old.save(update_fields=["type_state", "rotated_at", "last_modified_by", "last_modified_at"])
    new.replaces = old
    _save_new(new)
    _event("key.rotated", new, actor, previousKeyId=str(old.id), previousKid=old.kid)
    logger.info("key %s rotated to %s (%s)", old.id, new.id, new)
    return new


@transaction.atomic
def key_deactivate(*, key: Key, actor: str) -> Key:
    """Retire a key without a successor, e.g. when its device is deprovisioned (event `key.deactivated`)."""
    key = Key.objects.select_for_update().get(pk=key.pk)
    if key.type_state != EntityTypeState.ACTIVE:
        return key
    key.type_state, key.last_modified_by = EntityTypeState.INACTIVE, actor
    key.save(update_fields=["type_state", "last_modified_by", "last_modified_at"])
    _event("key.deactivated", key, actor)
    return key


def property_key_ensure(*, property_id: UUID, actor: str, key_mode: str = KeyKeyMode.SIGN_VERIFY) -> Key:
    """The property's active propertyKey of `key_mode`, generated on first use (PROTOCOL.md §1).

    Safe under concurrency: two first callers race on the one-active-key constraint, and the
    loser reads the winner's key.
    """
    found = key_active(
        owner_type=KeyOwnerType.PROPERTY, owner_id=property_id, purpose=KeyPurpose.PROPERTY_KEY, key_mode=key_mode
    )
    if found is not None:
        return found
    try:
        return key_generate(
            owner_type=KeyOwnerType.PROPERTY,
            owner_id=property_id,
            property_id=property_id,
            purpose=KeyPurpose.PROPERTY_KEY,
            key_mode=key_mode,
            actor=actor,
        )
    except ConflictError:
        found = key_active(
            owner_type=KeyOwnerType.PROPERTY, owner_id=property_id, purpose=KeyPurpose.PROPERTY_KEY, key_mode=key_mode
        )
        if found is None:
            raise
        return found


# --- KEK rotation ----------------------------------------------------------------------------
@dataclass
class RewrapReport:
    """What `keys_rewrap` did: counts, and the keys it could not rewrap (id → reason)."""

    current_kek_id: int
    rewrapped: int = 0
    already_current: int = 0
    failed: dict[str, str] = field(default_factory=dict)
    remaining_by_kek: dict[int, int] = field(default_factory=dict)

    @property
    def old_keks_removable(self) -> bool:
        """True when no wrapped key needs any KEK but the current one."""
        return not self.remaining_by_kek


def key_rewrap(*, key: Key, ring: kek.KekRing | None = None) -> bool:
    """Rewrap one key's private key under the current KEK, in its own transaction.

    Returns False when it already is (so running twice, or after a crash, is harmless).
    No event per key: the material does not change; `keys_rewrap` appends one summary event.
    """
    ring = ring or kek.kek_ring()
    with transaction.atomic():
        key = Key.objects.select_for_update().get(pk=key.pk)
        if key.wrapped_private_key is None or key.kek_id == ring.current_id:
            return False
        private = kek.unwrap(
            bytes(key.wrapped_private_key),
            kek_id=key.kek_id,
            key_id=str(key.id),
            purpose=key.purpose,
            algorithm=key.algorithm,
            ring=ring,
        )
        key.kek_id, key.wrapped_private_key = kek.wrap(
            private, key_id=str(key.id), purpose=key.purpose, algorithm=key.algorithm, ring=ring
        )
        key.save(update_fields=["kek_id", "wrapped_private_key"])  # not last_modified_*: nothing visible changed
        return True


def _remaining_by_kek(current_id: int) -> dict[int, int]:
    """Rows still under an old KEK, by kekId: keys, and the registered holders' rows."""
    remaining: dict[int, int] = {}
    for kek_id in Key.objects.filter(kek_id__isnull=False).exclude(kek_id=current_id).values_list("kek_id", flat=True):
        remaining[kek_id] = remaining.get(kek_id, 0) + 1
    for holder in wrapped_secret_holders():
        for kek_id, count in holder.remaining_by_kek(current_id).items():
            remaining[kek_id] = remaining.get(kek_id, 0) + count
    return remaining


def keys_rewrap(*, actor: str, batch_size: int = 500, dry_run: bool = False) -> RewrapReport:
    """Rewrap every server-held private key not under the current KEK (manage.py rotate_kek),
    and the rows of every registered holder of wrapped secrets (apps/keys/holders.py).

    Idempotent and resumable: each key commits on its own, and a rerun picks up what is left.
    A key that does not unwrap (its KEK already removed, or a damaged row) is reported and
    skipped; the others still move. One `key.kek_rotated` event records the run.
    """
    ring = kek.kek_ring()
    report = RewrapReport(current_kek_id=ring.current_id)
    report.already_current = Key.objects.filter(kek_id=ring.current_id).count()
    if dry_run:
        report.remaining_by_kek = _remaining_by_kek(ring.current_id)
        return report
    last_id = None
    while True:
        todo = Key.objects.filter(kek_id__isnull=False).exclude(kek_id=ring.current_id).order_by("id")
        if last_id is not None:
            todo = todo.filter(id__gt=last_id)
        batch = list(todo.only("id")[:batch_size])
        if not batch:
            break
        for key in batch:
            last_id = key.id
            try:
                if key_rewrap(key=key, ring=ring):
                    report.rewrapped += 1
            except kek.KekError as exc:
                report.failed[f"key {key.id}"] = str(exc)
                logger.warning("key %s not rewrapped: %s", key.id, exc)
    for holder in wrapped_secret_holders():  # secrets of higher apps (apps/keys/holders.py)
        rewrapped, failed = holder.rewrap(ring=ring, batch_size=batch_size)
        report.rewrapped += rewrapped
        report.failed.update(failed)
    report.remaining_by_kek = _remaining_by_kek(ring.current_id)
    if report.rewrapped:
        with transaction.atomic():
            event_append(
                event_name="key.kek_rotated",
                actor=actor,
                payload={"kekId": ring.current_id, "rewrapped": report.rewrapped, "failed": len(report.failed)},
            )
    return report
