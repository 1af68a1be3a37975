"""Key maps: built from derived access and device keys, signed once per version by a worker.

- `key_maps_request` (called by the event handlers, apps/locks/handlers.py) records that a
  property's key maps may have changed because of an event, and enqueues
  `tasks.key_maps_build` after commit.
- `key_maps_build` (the task) recomputes every lock of the property under the property's row
  lock (the same mutex apps.access.derive takes, so it reads settled derived lines), and
  signs a new version only for locks whose content changed, or that must be re-issued before
  their `notAfter`. Requests answered by the run point to it (provable revocation reads that).
- `key_maps_sweep` (beat, every minute; `manage.py key_maps_build`) builds what a lost task
  left waiting and re-issues maps nearing `notAfter`.

Nothing here runs at request time: syncLock only reads `SignedKeyMap` rows (PROTOCOL.md §6.3).
"""

import logging
import time
from collections import defaultdict
from collections.abc import Iterable
from datetime import timedelta
from functools import partial

from django.apps import apps as django_apps
from django.conf import settings
from django.db import transaction
from django.utils import timezone

from apps.access.derive import schedules_content
from apps.access.models import LockAccessEntry, Membership
from apps.accounts.models import User
from apps.core.actors import SYSTEM
from apps.core.choices import EntityTypeState
from apps.devices.selectors import device_access_keys
from apps.events.services import event_append
from apps.keys import canonical, crypto
from apps.keys.choices import KeyOwnerType, KeyPurpose
from apps.keys.models import Key
from apps.keys.services import key_private
from apps.locks import protocol, signing
from apps.locks.constants import KEY_MAP_REQUEST_GRACE_SECONDS
from apps.locks.models import KeyMapBuild, KeyMapRequest, Lock, SignedKeyMap
from apps.properties.models import Property

logger = logging.getLogger("keyhouse.locks")


def _enqueue_build(property_id) -> None:
    from apps.locks import tasks  # local: its tasks module imports this one (Celery calls the services)

    try:
        tasks.key_maps_build.delay(str(property_id))
    except Exception:  # noqa: BLE001 - broker errors vary by transport; the sweep builds it later
        logger.warning("could not enqueue key-map build of %s; the sweep will", property_id, exc_info=True)


def key_maps_request(*, property_ids: Iterable, reason: str, event=None) -> list[KeyMapRequest]:
    """Record "these properties' key maps may have changed" and build them after commit."""
    rows = [
        KeyMapRequest(
            property_id=property_id,
            reason=reason[:64],
            event_id=event.id if event is not None else None,
            event_created_at=event.created_at if event is not None else None,
        )
        for property_id in sorted({str(p) for p in property_ids if p})
    ]
    KeyMapRequest.objects.bulk_create(rows)
    for row in rows:
        transaction.on_commit(partial(_enqueue_build, row.property_id))
    return rows


# --- inputs ----------------------------------------------------------------------------------


def _user_held_access_keys(user_ids: Iterable[str]) -> dict[str, list[dict]]:
    """deviceAccessKeys registered for a person directly (owner type `user`, PROTOCOL.md §1)."""

    rows = list(
        Key.objects.filter(
            owner_type=KeyOwnerType.USER,
            owner_id__in=list(user_ids),
            purpose=KeyPurpose.DEVICE_ACCESS_KEY,
            type_state=EntityTypeState.ACTIVE,
        )
        .order_by("id")
        .values_list("owner_id", "id", "kid", "public_key")
    )
    live = set(
        User.objects.filter(pk__in={row[0] for row in rows}, is_active=True)
        .exclude(type_state=EntityTypeState.DELETED)
        .values_list("id", flat=True)
    )
    found: dict[str, list[dict]] = defaultdict(list)
    for owner_id, key_id, kid, public in rows:
        if owner_id in live:
            found[str(owner_id)].append(
                {"kid": kid, "publicKey": crypto.b64url_encode(bytes(public)), "keyId": str(key_id)}
            )
    return found


def access_keys_for_users(user_ids: Iterable) -> dict[str, list[dict]]:
    """{userId: [{kid, publicKey, keyId, userDeviceId?}]}: the active access keys of live
    people, from their provisioned devices (apps.devices) and any held by the person directly."""
    user_ids = sorted({str(u) for u in user_ids})
    found: dict[str, list[dict]] = defaultdict(list)
    if django_apps.is_installed("apps.devices"):
        for user_id, keys in device_access_keys(user_ids).items():
            found[str(user_id)].extend(keys)
    for user_id, keys in _user_held_access_keys(user_ids).items():
        found[user_id].extend(keys)
    return found


def _lines_by_lock(property_id) -> dict[str, list[protocol.Line]]:
    lines: dict[str, list[protocol.Line]] = defaultdict(list)
    rows = LockAccessEntry.objects.filter(property_id=property_id).values_list(
        "lock_id", "kind", "subject_id", "schedule_id", "valid_from", "valid_until"
    )
    for lock_id, kind, subject_id, schedule_id, valid_from, valid_until in rows:
        lines[str(lock_id)].append(
            protocol.Line(
                kind=kind,
                subject_id=str(subject_id) if subject_id else "",
                schedule_id=str(schedule_id) if schedule_id else "",
                # bounds narrowed to whole seconds: open no earlier, close no later (§6.3)
                valid_from=protocol.unix_ceil(valid_from) if valid_from else None,
                valid_until=protocol.unix(valid_until) if valid_until else None,
            )
        )
    return lines


def _members(group_ids: Iterable[str]) -> dict[str, list[str]]:
    members: dict[str, list[str]] = defaultdict(list)
    rows = Membership.objects.filter(
        user_group_id__in=list(group_ids), user_group__type_state=EntityTypeState.ACTIVE
    ).values_list("user_group_id", "user_id")
    for group_id, user_id in rows:
        members[str(group_id)].append(str(user_id))
    return members


class _Inputs:
    """Everything the key maps of one property are made of, loaded in a handful of queries."""

    def __init__(self, prop):
        self.property_id = str(prop.pk)
        self.time_zone = prop.time_zone
        self.lines = _lines_by_lock(prop.pk)
        all_lines = [line for lines in self.lines.values() for line in lines]
        self.members = _members({line.subject_id for line in all_lines if line.kind == protocol.GROUP})
        people = {line.subject_id for line in all_lines if line.kind in (protocol.USER, protocol.DENY)}
        people |= {user_id for users in self.members.values() for user_id in users}
        self.keys = access_keys_for_users(people)
        self.schedules = schedules_content(prop.pk)
        self.property_keys = signing.property_keys(prop.pk)

    def content(self, lock_id: str) -> dict:
        return protocol.key_map_content(
            lock_id=lock_id,
            property_id=self.property_id,
            time_zone=self.time_zone,
            lines=self.lines.get(lock_id, ()),
            members=self.members,
            keys=self.keys,
            schedules=self.schedules,
            property_keys=self.property_keys.trusted,
            property_seal_key=self.property_keys.seal_item,
        )


# --- build -----------------------------------------------------------------------------------


def _sign_one(lock: Lock, content: dict, digest: str, *, build: KeyMapBuild, signers) -> int:
    version = lock.signed_key_map_version + 1
    issued_at = protocol.unix(build.started_at)
    not_after = issued_at + settings.KEYHOUSE_KEY_MAP_TTL_SECONDS
    payload = protocol.key_map_payload(content, version=version, issued_at=issued_at, not_after=not_after)
    signatures = canonical.sign_payload(payload, canonical.CONTEXT_LOCK_KEY_MAP, signers)
    SignedKeyMap.objects.create(
        lock=lock,
        version=version,
        payload=payload,
        signatures=signatures,
        digest=digest,
        payload_digest=protocol.payload_digest(payload),
        issued_at=protocol.from_unix(issued_at),
        not_after=protocol.from_unix(not_after),
        entry_count=len(payload["entries"]),
        build=build,
    )
    Lock.objects.filter(pk=lock.pk).update(
        signed_key_map_version=version,
        signed_key_map_digest=digest,
        signed_key_map_not_after=protocol.from_unix(not_after),
    )
    return version


@transaction.atomic
def key_maps_build(*, property_id, reissue_lock_ids: Iterable = (), reason: str = "change") -> KeyMapBuild | None:
    """Recompute every lock of the property; sign a new version where the content changed or a
    re-issue is due. Answers every open KeyMapRequest of the property. Idempotent: a second run
    with nothing changed signs nothing. Event `lock.key_maps_signed` when it signed any."""

    clock = time.perf_counter()
    prop = Property.objects.select_for_update().filter(pk=property_id).first()
    requests = list(
        KeyMapRequest.objects.filter(property_id=property_id, build__isnull=True).values_list("pk", flat=True)
    )
    build = KeyMapBuild.objects.create(property_id=property_id, started_at=timezone.now(), reason=reason)
    if prop is not None and prop.type_state != EntityTypeState.DELETED:
        locks = list(Lock.objects.alive().filter(property_id=property_id).order_by("id"))
        reissue = {str(lock_id) for lock_id in reissue_lock_ids}
        inputs = _Inputs(prop) if locks else None
        signers = None
        signed = {}
        for lock in locks:
            content = inputs.content(str(lock.pk))
            digest = protocol.content_digest(content)
            if digest == lock.signed_key_map_digest and str(lock.pk) not in reissue:
                continue
            if signers is None:  # unwrap the property's private keys once per build
                signers = [key_private(key=key) for key in inputs.property_keys.signing]
            signed[str(lock.pk)] = _sign_one(lock, content, digest, build=build, signers=signers)
        build.locks_checked, build.locks_signed = len(locks), len(signed)
        if signed:
            event_append(
                event_name="lock.key_maps_signed",
                actor=SYSTEM,
                property_id=property_id,
                payload={"buildId": build.pk, "reason": reason, "locks": len(signed)},
            )
    KeyMapRequest.objects.filter(pk__in=requests).update(build=build)
    build.finished_at = timezone.now()
    build.duration_ms = int((time.perf_counter() - clock) * 1000)
    build.save(update_fields=["finished_at", "duration_ms", "locks_checked", "locks_signed"])
    logger.log(
        logging.INFO if build.locks_signed else logging.DEBUG,  # a build that signs nothing is routine
        "key maps of %s: %s checked, %s signed (%s ms)",
        property_id,
        build.locks_checked,
        build.locks_signed,
        build.duration_ms,
    )
    return build


def key_maps_pending(*, older_than_seconds: int = 0) -> list[str]:
    """Properties with a request no build has answered (older than the grace period)."""
    queryset = KeyMapRequest.objects.filter(build__isnull=True)
    if older_than_seconds:
        queryset = queryset.filter(requested_at__lte=timezone.now() - timedelta(seconds=older_than_seconds))
    return sorted({str(p) for p in queryset.values_list("property_id", flat=True)})


def key_maps_due_for_reissue(*, now=None) -> dict[str, set[str]]:
    """{propertyId: lockIds} whose newest map ends within KEYHOUSE_KEY_MAP_REISSUE_BEFORE_SECONDS."""
    now = now or timezone.now()
    horizon = now + timedelta(seconds=settings.KEYHOUSE_KEY_MAP_REISSUE_BEFORE_SECONDS)
    due: dict[str, set[str]] = defaultdict(set)
    rows = (
        Lock.objects.alive()
        .filter(property__isnull=False, signed_key_map_not_after__lte=horizon)
        .values_list("property_id", "id")
    )
    for property_id, lock_id in rows:
        due[str(property_id)].add(str(lock_id))
    return due


def key_maps_sweep(*, grace_seconds: int = KEY_MAP_REQUEST_GRACE_SECONDS, now=None) -> dict:
    """Beat: build what lost tasks left waiting, re-issue maps nearing notAfter. Each property is
    its own transaction, so one failure does not stop the others."""
    built, reissued, failed = 0, 0, []
    due = key_maps_due_for_reissue(now=now)
    for property_id in sorted(set(key_maps_pending(older_than_seconds=grace_seconds)) | set(due)):
        try:
            build = key_maps_build(
                property_id=property_id,
                reissue_lock_ids=due.get(property_id, ()),
                reason="reissue" if property_id in due else "sweep",
            )
        except Exception:  # noqa: BLE001 - isolate properties; logged and retried next minute
            logger.exception("key-map build of %s failed", property_id)
            failed.append(property_id)
            continue
        built += 1
        reissued += build.locks_signed if property_id in due else 0
    return {"built": built, "reissued": reissued, "failed": failed}
