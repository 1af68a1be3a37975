"""Writes for locks: provision (with the lock's own keys and API secret), install, uninstall,
rename, deprovision.

Each is one transaction with its event (`lock.provisioned`, `lock.installed`,
`lock.uninstalled`, `lock.updated`, `lock.deprovisioned`); the access model recomputes
derived lines from install / uninstall, and apps.locks.handlers asks for new key maps.
Provision / install / uninstall raise the lock's `command_sequence` (PROTOCOL.md §6.2), so a
signed command issued earlier can never be replayed over a later one.
"""

from dataclasses import dataclass

from django.db import transaction
from django.utils import timezone

from apps.accounts.credentials import current_pepper_id, secret_digest, secret_generate
from apps.core.choices import EntityTypeState
from apps.core.exceptions import ApplicationError, ConflictError
from apps.core.ids import id_in_use
from apps.events.services import event_append, events_append
from apps.keys import crypto
from apps.keys.choices import KeyKeyMode, KeyOwnerType, KeyPurpose
from apps.keys.models import Key
from apps.keys.services import key_deactivate, key_register_public
from apps.locks.choices import LockUninstallMode
from apps.locks.constants import LOCK_SECRET_KIND
from apps.locks.models import Lock, LockCredential


@dataclass(frozen=True)
class ProvisionedLock:
    lock: Lock
    secret: str  # shown once (private.apiKeySecret); only its keyed hash is stored
    credential: LockCredential


@transaction.atomic
def lock_create(*, display_name: str, actor: str, prop=None, owner=None, lock_id=None, purchase_date=None) -> Lock:
    """A lock row in a property (or in none yet); event `lock.provisioned`."""
    if lock_id is not None and id_in_use(lock_id):
        raise ConflictError(
            "lockId: this id is already in use", fields={"lockId": ["Already in use (ids are unique across types)."]}
        )
    lock = Lock(
        display_name=display_name,
        property=prop,
        owner=owner,
        purchase_date=purchase_date,
        command_sequence=1,
        last_modified_by=actor,
    )
    if lock_id is not None:
        lock.id = lock_id
    lock.full_clean()
    lock.save(force_insert=True)
    event_append(event_name="lock.provisioned", actor=actor, lock_id=lock.id, property_id=lock.property_id)
    return lock


def _register(lock: Lock, *, key_mode: str, public_key: bytes, field: str, actor: str) -> Key:
    try:
        return key_register_public(
            owner_type=KeyOwnerType.LOCK,
            owner_id=lock.id,
            property_id=lock.property_id,
            purpose=KeyPurpose.LOCK_KEY,
            key_mode=key_mode,
            public_key=public_key,
            actor=actor,
        )
    except ApplicationError as exc:  # name the request field, not the key layer's `publicKey`
        message = exc.message.removeprefix("publicKey: ")
        raise type(exc)(f"{field}: {message}", fields={field: [message]}) from None


def lock_credential_create(*, lock: Lock) -> tuple[LockCredential, str]:
    """A new API secret for the lock (`khl_…`); returns it once, stores its HMAC."""
    parsed = secret_generate(LOCK_SECRET_KIND)
    pepper_id = current_pepper_id()
    credential = LockCredential.objects.create(
        lock=lock, prefix=parsed.prefix, digest=secret_digest(parsed.secret, pepper_id), pepper_id=pepper_id
    )
    return credential, parsed.secret


@transaction.atomic
def lock_provision(
    *,
    display_name: str,
    lock_key: bytes,
    actor: str,
    lock_seal_key: bytes | None = None,
    prop=None,
    area=None,
    owner=None,
    lock_id=None,
    purchase_date=None,
) -> ProvisionedLock:
    """provisionLock: the lock row, its own public keys (it keeps the private halves), its API
    secret, and optionally the install into `area` (PROTOCOL.md §6.1)."""
    if area is not None:
        if prop is not None and prop.pk != area.property_id:
            message = "The area belongs to another property."
            raise ApplicationError(f"areaId: {message}", fields={"areaId": [message]})
        prop = area.property
    lock = lock_create(
        display_name=display_name, actor=actor, prop=prop, owner=owner, lock_id=lock_id, purchase_date=purchase_date
    )
    _register(lock, key_mode=KeyKeyMode.SIGN_VERIFY, public_key=lock_key, field="lockKey", actor=actor)
    if lock_seal_key is not None:
        _register(lock, key_mode=KeyKeyMode.ENCRYPT_DECRYPT, public_key=lock_seal_key, field="lockSealKey", actor=actor)
    credential, secret = lock_credential_create(lock=lock)
    if area is not None:
        lock = lock_install(lock=lock, area=area, actor=actor)
    return ProvisionedLock(lock=lock, secret=secret, credential=credential)


@transaction.atomic
def lock_install(*, lock: Lock, area, actor: str) -> Lock:
    """Put the lock on a door of `area` (same property, or a lock of no property yet)."""
    lock = Lock.objects.select_for_update().get(pk=lock.pk)
    if lock.type_state == EntityTypeState.DELETED:
        raise ApplicationError("lockId: the lock is deprovisioned")
    if area.type_state == EntityTypeState.DELETED:
        raise ApplicationError("areaId: the area is deleted", fields={"areaId": ["The area is deleted."]})
    if lock.property_id is not None and lock.property_id != area.property_id:
        raise ApplicationError(
            "areaId: the area belongs to another property than the lock",
            fields={"areaId": ["The area belongs to another property than the lock."]},
        )
    previous_area_id = lock.area_id
    if previous_area_id == area.pk:
        return lock
    joined = lock.property_id is None
    lock.property_id, lock.area, lock.install_date = area.property_id, area, timezone.now()
    lock.command_sequence += 1
    lock.last_modified_by = actor
    lock.save()
    if joined:  # its own keys now belong to the property's key set
        Key.objects.filter(owner_type=KeyOwnerType.LOCK, owner_id=lock.pk).update(property_id=area.property_id)
    event_append(
        event_name="lock.installed",
        actor=actor,
        lock_id=lock.id,
        area_id=area.pk,
        property_id=area.property_id,
        payload={"previousAreaId": str(previous_area_id) if previous_area_id else None},
    )
    return lock


@transaction.atomic
def locks_create_installed(*, doors: list[tuple[str, object, bool]], actor: str) -> list[Lock]:
    """Many new locks, each on the door of its own live area, in one INSERT (the batch variant
    of `lock_create` + `lock_install` + `lock_activity_set` for an integration's first poll):
    `doors` are (display name, area, active). Events as one by one: `lock.provisioned` and
    `lock.installed` each, and `lock.updated` (typeState active → inactive) for an inactive one."""
    now = timezone.now()
    locks = []
    for display_name, area, active in doors:
        if area.type_state == EntityTypeState.DELETED:
            raise ApplicationError("areaId: the area is deleted", fields={"areaId": ["The area is deleted."]})
        lock = Lock(
            display_name=display_name,
            property_id=area.property_id,
            area=area,
            install_date=now,
            command_sequence=2,  # created (1), then installed (+1), as lock_create + lock_install
            type_state=EntityTypeState.ACTIVE if active else EntityTypeState.INACTIVE,
            last_modified_by=actor,
        )
        lock.full_clean(validate_unique=False, validate_constraints=False)
        locks.append(lock)
    Lock.objects.bulk_create(locks, batch_size=500)
    events = []
    for lock in locks:
        refs = {"lock_id": lock.id, "property_id": lock.property_id}
        events.append({"event_name": "lock.provisioned", **refs})
        events.append(
            {"event_name": "lock.installed", "area_id": lock.area_id, "payload": {"previousAreaId": None}, **refs}
        )
        if lock.type_state == EntityTypeState.INACTIVE:
            payload = {"typeState": {"from": EntityTypeState.ACTIVE, "to": EntityTypeState.INACTIVE}}
            events.append({"event_name": "lock.updated", "payload": payload, **refs})
    events_append(events=events, actor=actor)
    return locks


@transaction.atomic
def lock_uninstall(*, lock: Lock, actor: str, mode: str = "area") -> Lock:
    """Take the lock off its door. `mode`: `area` (stays in the property), `property`
    (leaves the property too), `owner` (also forgets its owner)."""
    if mode not in LockUninstallMode.values:
        message = "Must be area, property or owner."
        raise ApplicationError(f"uninstallMode: {message}", fields={"uninstallMode": [message]})
    lock = Lock.objects.select_for_update().get(pk=lock.pk)
    previous_area_id, previous_property_id = lock.area_id, lock.property_id
    lock.area, lock.install_date = None, None
    if mode in (LockUninstallMode.PROPERTY, LockUninstallMode.OWNER):
        lock.property = None
        # The lock forgets its property (PROTOCOL.md §6.2): it starts from "no key map", and the
        # next property's first map gets the next version number (versions never repeat).
        lock.signed_key_map_digest, lock.signed_key_map_not_after = "", None
        lock.reported_key_map_version = lock.applied_key_map_version = 0
    if mode == LockUninstallMode.OWNER:
        lock.owner = None
    lock.command_sequence += 1
    lock.last_modified_by = actor
    lock.save()
    event_append(
        event_name="lock.uninstalled",
        actor=actor,
        lock_id=lock.id,
        area_id=previous_area_id,
        property_id=previous_property_id,
        payload={"uninstallMode": mode},
    )
    return lock


@transaction.atomic
def lock_update(*, lock: Lock, display_name: str, actor: str) -> Lock:
    """updateLock: rename (event `lock.updated` when the name changes)."""
    lock = Lock.objects.select_for_update().get(pk=lock.pk)
    if lock.display_name == display_name:
        return lock
    previous = lock.display_name
    lock.display_name, lock.last_modified_by = display_name, actor
    lock.full_clean()
    lock.save()
    event_append(
        event_name="lock.updated",
        actor=actor,
        lock_id=lock.id,
        property_id=lock.property_id,
        payload={"displayName": {"from": previous, "to": display_name}},
    )
    return lock


@transaction.atomic
def lock_activity_set(*, lock: Lock, active: bool, actor: str) -> Lock:
    """Mark a lock active or inactive (spec typeState; a remote system switched it off or on);
    event `lock.updated` only when it changes. A deleted lock is left alone."""
    lock = Lock.objects.select_for_update().get(pk=lock.pk)
    wanted = EntityTypeState.ACTIVE if active else EntityTypeState.INACTIVE
    if lock.type_state in (wanted, EntityTypeState.DELETED):
        return lock
    previous = lock.type_state
    lock.type_state, lock.last_modified_by = wanted, actor
    lock.save(update_fields=["type_state", "last_modified_by", "last_modified_at"])
    event_append(
        event_name="lock.updated",
        actor=actor,
        lock_id=lock.id,
        property_id=lock.property_id,
        payload={"typeState": {"from": previous, "to": wanted}},
    )
    return lock


@transaction.atomic
def lock_deprovision(*, lock: Lock, actor: str) -> Lock:
    """deprovisionLock: uninstall it if installed, revoke its API secret, retire its keys, and
    soft-delete it (event `lock.deprovisioned`). Its access logs and acks stay."""
    lock = Lock.objects.select_for_update().get(pk=lock.pk)
    if lock.type_state == EntityTypeState.DELETED:
        return lock
    if lock.area_id is not None:
        lock = lock_uninstall(lock=lock, actor=actor, mode=LockUninstallMode.AREA)
    now = timezone.now()
    LockCredential.objects.filter(lock=lock, revoked_at__isnull=True).update(revoked_at=now)
    for key in Key.objects.filter(owner_type=KeyOwnerType.LOCK, owner_id=lock.pk, type_state=EntityTypeState.ACTIVE):
        key_deactivate(key=key, actor=actor)
    lock.type_state, lock.deprovisioned_at, lock.last_modified_by = EntityTypeState.DELETED, now, actor
    lock.command_sequence += 1
    lock.save()
    event_append(event_name="lock.deprovisioned", actor=actor, lock_id=lock.id, property_id=lock.property_id)
    return lock


def public_key_decode(value: str, *, field: str, algorithm: str) -> bytes:
    """A base64url public key from the request, checked (400 naming `field` otherwise)."""
    try:
        return crypto.check_public_key(algorithm, crypto.b64url_decode(value))
    except (ValueError, crypto.KeyFormatError) as exc:
        raise ApplicationError(f"{field}: {exc}", fields={field: [str(exc)]}) from None
