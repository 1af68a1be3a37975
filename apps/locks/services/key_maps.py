"""Key maps: built from derived access and device keys, signed once per version by a worker.

- `key_maps_request` (called by the event handlers, apps/locks/handlers.py) records that some
  key maps of a property may have changed because of an event, naming the locks (or every lock),
  and enqueues `tasks.key_maps_build` after commit.
- `key_maps_build` (the task) takes every open request of the property under the property's
  row lock (the same mutex apps.access.derive takes, so it reads settled derived lines) and
  computes the union of the locks they name, the locks whose access lines moved since their
  map was computed (`Lock.key_map_lines_digest` against `LockAccessVersion.digest`) and those
  due for re-issue: each lock once, whatever number of requests named it, from its own inputs
  only (its lines, the members of the groups they name, those people's keys), in chunks of
  KEY_MAP_BUILD_CHUNK locks. It signs a new version only for locks whose content changed or that
  must be re-issued before their `notAfter`. Requests answered by the run point to it (provable
  revocation reads that), with the change's latency (`signed_after_ms`).
- `key_maps_sweep` (beat, every minute; `manage.py key_maps_build`) builds what a lost task
  left waiting and re-issues maps nearing `notAfter`; `manage.py key_maps_build --property`
  computes every lock of the property.
- `key_maps_rebuild` (`manage.py key_maps_build --property --parts`) splits a build-all into
  parts of KEY_MAP_PART_LOCKS locks, one `tasks.key_maps_build_part` each, which several
  workers run side by side: a part holds the property row FOR SHARE (builds and derive refreshes
  take it FOR UPDATE) and answers no request (docs/SCALING.md).

Nothing here runs at request time: syncLock only reads `SignedKeyMap` rows (PROTOCOL.md §6.3).
"""

import logging
import time
from collections import defaultdict
from collections.abc import Iterable, Mapping
from datetime import timedelta
from functools import partial

from django.apps import apps as django_apps
from django.conf import settings
from django.db import connection, transaction
from django.db.models import F, JSONField, OuterRef, Q, Subquery, Value
from django.db.models.functions import Cast, Coalesce
from django.utils import timezone

from apps.access.derive import schedules_content
from apps.access.models import LockAccessEntry, LockAccessVersion, Membership
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
from apps.locks.constants import KEY_MAP_BUILD_CHUNK, KEY_MAP_PART_LOCKS, KEY_MAP_REQUEST_GRACE_SECONDS
from apps.locks.models import KeyMapBuild, KeyMapRequest, Lock, SignedKeyMap
from apps.properties.models import Property

logger = logging.getLogger("keyhouse.locks")


def _enqueue_build(property_id) -> None:
    from apps.locks import tasks  # local: its tasks module imports this one (Celery calls the services)

    try:
        tasks.key_maps_build.delay(str(property_id))
    except Exception:  # noqa: BLE001 - broker errors vary by transport; the sweep builds it later
        logger.warning("could not enqueue key-map build of %s; the sweep will", property_id, exc_info=True)


def key_maps_request(
    *, reason: str, event=None, property_ids: Iterable = (), lock_ids: Mapping[str, Iterable] | None = None
) -> list[KeyMapRequest]:
    """Record "these key maps may have changed" and build them after commit.

    `property_ids`: every lock of these properties (a key rotation, a time-zone change).
    `lock_ids`: {propertyId: lockIds} the change may alter (an empty list: only the locks whose
    access lines moved, which every build takes anyway). The next build of each property
    answers all its open requests at once, so requests for the same lock coalesce."""
    scopes: dict[str, list | None] = {str(p): sorted({str(x) for x in ids}) for p, ids in (lock_ids or {}).items()}
    scopes.update({str(p): None for p in property_ids if p})
    rows = [
        KeyMapRequest(
            property_id=property_id,
            reason=reason[:64],
            lock_ids=scopes[property_id],
            event_id=event.id if event is not None else None,
            event_created_at=event.created_at if event is not None else None,
        )
        for property_id in sorted(p for p in scopes if p and p != "None")
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


def _lines_by_lock(property_id, lock_ids: Iterable[str] | None) -> dict[str, list[protocol.Line]]:
    lines: dict[str, list[protocol.Line]] = defaultdict(list)
    rows = LockAccessEntry.objects.filter(property_id=property_id)
    if lock_ids is not None:
        rows = rows.filter(lock_id__in=list(lock_ids))
    rows = rows.values_list("lock_id", "kind", "subject_id", "schedule_id", "valid_from", "valid_until")
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


def _members(group_ids: Iterable[str]) -> tuple[dict[str, list[str]], dict[tuple[str, str], tuple]]:
    """The groups' members, and the (group, user) windows of the memberships that have one
    (bounds narrowed to whole seconds like the lines': open no earlier, close no later)."""
    members: dict[str, list[str]] = defaultdict(list)
    windows: dict[tuple[str, str], tuple] = {}
    rows = Membership.objects.filter(
        user_group_id__in=list(group_ids), user_group__type_state=EntityTypeState.ACTIVE
    ).values_list("user_group_id", "user_id", "valid_from", "valid_until")
    for group_id, user_id, valid_from, valid_until in rows:
        members[str(group_id)].append(str(user_id))
        if valid_from or valid_until:
            windows[str(group_id), str(user_id)] = (
                protocol.unix_ceil(valid_from) if valid_from else None,
                protocol.unix(valid_until) if valid_until else None,
            )
    return members, windows


class _Inputs:
    """Everything the key maps of some locks of one property are made of (`lock_ids`; None: every
    lock), loaded in a handful of queries: those locks' lines, the members of the groups they
    name, those people's access keys, the property's schedules and keys. Nothing of other locks."""

    def __init__(self, prop, lock_ids: Iterable[str] | None = None):
        self.property_id = str(prop.pk)
        self.time_zone = prop.time_zone
        self.lines = _lines_by_lock(prop.pk, lock_ids)
        all_lines = [line for lines in self.lines.values() for line in lines]
        self.members, self.member_windows = _members(
            {line.subject_id for line in all_lines if line.kind == protocol.GROUP}
        )
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
            member_windows=self.member_windows,
        )


# --- build -----------------------------------------------------------------------------------


def _sign_one(lock: Lock, content: dict, digest: str, *, build: KeyMapBuild, signers, lines_digest: str) -> int:
    version = lock.signed_key_map_version + 1
    issued_at = protocol.unix(build.started_at)
    not_after = issued_at + settings.KEYHOUSE_KEY_MAP_TTL_SECONDS
    payload = protocol.key_map_payload(content, version=version, issued_at=issued_at, not_after=not_after)
    data = canonical.canonical(payload)  # once: the signatures and keyMapDigest cover the same bytes
    signatures = canonical.sign_payload(payload, canonical.CONTEXT_LOCK_KEY_MAP, signers, canonical_bytes=data)
    SignedKeyMap.objects.create(
        lock=lock,
        version=version,
        # the canonical bytes are JSON already: stored as sent, not serialized a second time
        # (json.dumps of a 522-entry payload, about 2 ms, was an eighth of a map's build)
        payload=Cast(Value(data.decode()), output_field=JSONField()),
        signatures=signatures,
        digest=digest,
        payload_digest=protocol.payload_digest(payload, canonical_bytes=data),
        issued_at=protocol.from_unix(issued_at),
        not_after=protocol.from_unix(not_after),
        entry_count=len(payload["entries"]),
        build=build,
    )
    Lock.objects.filter(pk=lock.pk).update(
        signed_key_map_version=version,
        signed_key_map_digest=digest,
        signed_key_map_not_after=protocol.from_unix(not_after),
        key_map_lines_digest=lines_digest,
    )
    return version


def _lines_digests(lock_ids: Iterable[str]) -> dict[str, str]:
    """{lockId: access-lines digest} (LockAccessVersion; a lock without lines is absent)."""
    rows = LockAccessVersion.objects.filter(lock_id__in=list(lock_ids)).values_list("lock_id", "digest")
    return {str(lock_id): digest for lock_id, digest in rows}


def _lines_moved(property_id) -> set[str]:
    """Live locks of the property whose access lines moved since their key map was last computed
    (or that were never computed): one query, comparing digests in the database."""
    lines_digest = Subquery(LockAccessVersion.objects.filter(lock_id=OuterRef("pk")).values("digest")[:1])
    rows = (
        Lock.objects.alive()
        .filter(property_id=property_id)
        .annotate(lines_digest=Coalesce(lines_digest, Value("")))
        .filter(Q(key_map_lines_digest__isnull=True) | ~Q(key_map_lines_digest=F("lines_digest")))
        .values_list("id", flat=True)
    )
    return {str(lock_id) for lock_id in rows}


def _scope(property_id, requested: list, *, every_lock: bool, reissue: set[str]) -> set[str] | None:
    """The locks a build computes (None: every lock): what the open requests named, the locks
    whose lines moved, and those due for re-issue; each lock once, however many asked."""
    if every_lock or any(lock_ids is None for lock_ids in requested):
        return None
    scope = set(reissue) | _lines_moved(property_id)
    for lock_ids in requested:
        scope.update(str(lock_id) for lock_id in lock_ids)
    return scope


def _build_chunk(prop, locks: list, build: KeyMapBuild, signers: list, signed: dict, *, reissue: set) -> list:
    """Compute these locks' maps from their own inputs; sign those whose content changed (or due
    for re-issue) into `signed`. Returns the property's signers (unwrapped once per build)."""
    lock_ids = [str(lock.pk) for lock in locks]
    inputs = _Inputs(prop, lock_ids)
    lines_digests = _lines_digests(lock_ids)
    for lock in locks:
        lines_digest = lines_digests.get(str(lock.pk), "")
        content = inputs.content(str(lock.pk))
        digest = protocol.content_digest(content)
        if digest == lock.signed_key_map_digest and str(lock.pk) not in reissue:
            if lock.key_map_lines_digest != lines_digest:  # computed from these lines: current
                Lock.objects.filter(pk=lock.pk).update(key_map_lines_digest=lines_digest)
            continue
        if not signers:
            signers = [key_private(key=key) for key in inputs.property_keys.signing]
        signed[str(lock.pk)] = _sign_one(lock, content, digest, build=build, signers=signers, lines_digest=lines_digest)
    return signers


def _requests_answer(requests: list, build: KeyMapBuild) -> None:
    """Point the requests to the build that answered them, with each change's latency: its
    event's creation to now, when the build has stored every map it signed."""
    stored_at = timezone.now()
    answered = [
        KeyMapRequest(
            pk=pk,
            build=build,
            signed_after_ms=max(0, int((stored_at - created_at).total_seconds() * 1000)) if created_at else None,
        )
        for pk, _, created_at in requests
    ]
    KeyMapRequest.objects.bulk_update(answered, ["build", "signed_after_ms"], batch_size=500)


@transaction.atomic
def key_maps_build(
    *, property_id, reissue_lock_ids: Iterable = (), reason: str = "change", every_lock: bool = False
) -> KeyMapBuild | None:
    """Compute the key maps the open requests of the property name (each lock once, whatever
    number of requests named it), the locks whose access lines moved, and those to re-issue
    (`every_lock`: all of them); sign a new version where the content changed or a re-issue is
    due. Reads only the computed locks' inputs. Answers every open KeyMapRequest of the
    property. Idempotent: a second run with nothing changed signs nothing. Event
    `lock.key_maps_signed` when it signed any."""

    clock = time.perf_counter()
    prop = Property.objects.select_for_update().filter(pk=property_id).first()
    requests = list(
        KeyMapRequest.objects.filter(property_id=property_id, build__isnull=True).values_list(
            "pk", "lock_ids", "event_created_at"
        )
    )
    build = KeyMapBuild.objects.create(property_id=property_id, started_at=timezone.now(), reason=reason)
    if prop is not None and prop.type_state != EntityTypeState.DELETED:
        reissue = {str(lock_id) for lock_id in reissue_lock_ids}
        scope = _scope(property_id, [lock_ids for _, lock_ids, _ in requests], every_lock=every_lock, reissue=reissue)
        locks = Lock.objects.alive().filter(property_id=property_id).order_by("id")
        if scope is not None:
            locks = locks.filter(pk__in=sorted(scope)) if len(scope) <= KEY_MAP_BUILD_CHUNK else locks
            locks = [lock for lock in locks if str(lock.pk) in scope]
        locks = list(locks)
        signers, signed = [], {}
        for start in range(0, len(locks), KEY_MAP_BUILD_CHUNK):
            signers = _build_chunk(
                prop, locks[start : start + KEY_MAP_BUILD_CHUNK], build, signers, signed, reissue=reissue
            )
        build.locks_checked, build.locks_signed = len(locks), len(signed)
        if signed:
            event_append(
                event_name="lock.key_maps_signed",
                actor=SYSTEM,
                property_id=property_id,
                payload={"buildId": build.pk, "reason": reason, "locks": len(signed)},
            )
    _requests_answer(requests, build)
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


# --- build-all, partitioned by lock ----------------------------------------------------------


def _property_shared(property_id) -> Property | None:
    """The property, its row held FOR SHARE on PostgreSQL: the parts of one build-all run side by
    side, while a derive refresh or an incremental build (FOR UPDATE) waits for them, and they
    for it. (SQLite has one writer at a time anyway.)"""
    prop = Property.objects.filter(pk=property_id).first()
    if prop is not None and connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            table = connection.ops.quote_name(Property._meta.db_table)
            cursor.execute(f"SELECT 1 FROM {table} WHERE id = %s FOR SHARE", [prop.pk])  # noqa: S608 - model's own table
    return prop


def key_maps_partition(*, property_id, part_size: int = KEY_MAP_PART_LOCKS) -> list[list[str]]:
    """Every live lock of the property in parts of `part_size` (by id): what one
    `key_maps_build_part` task computes."""
    lock_ids = [
        str(pk)
        for pk in Lock.objects.alive().filter(property_id=property_id).order_by("id").values_list("id", flat=True)
    ]
    return [lock_ids[start : start + part_size] for start in range(0, len(lock_ids), part_size)]


def key_maps_rebuild(*, property_id, part_size: int = KEY_MAP_PART_LOCKS, reissue: bool = False) -> list[list[str]]:
    """Build every key map of the property as independent parts (`tasks.key_maps_build_part`,
    enqueued after commit), so that several workers share the work; `reissue`: a new version
    of every map, changed or not. Returns the parts."""
    from apps.locks import tasks  # local: its tasks module imports this one

    parts = key_maps_partition(property_id=property_id, part_size=part_size)
    for part in parts:
        transaction.on_commit(partial(tasks.key_maps_build_part.delay, str(property_id), part, reissue))
    return parts


@transaction.atomic
def key_maps_build_part(
    *, property_id, lock_ids: Iterable, reissue: bool = False, reason: str = "rebuild"
) -> KeyMapBuild | None:
    """One part of a build-all: compute these locks' maps from their own inputs, sign those whose
    content changed. Holds the property FOR SHARE (not FOR UPDATE), so parts run in parallel on
    several workers; answers no request (the next incremental build does, and finds these locks
    current). Idempotent like `key_maps_build` (`reissue`: sign every one of them anew)."""

    clock = time.perf_counter()
    prop = _property_shared(property_id)
    if prop is None or prop.type_state == EntityTypeState.DELETED:
        return None
    build = KeyMapBuild.objects.create(property_id=property_id, started_at=timezone.now(), reason=reason)
    wanted = sorted({str(lock_id) for lock_id in lock_ids})
    locks = list(Lock.objects.alive().filter(property_id=property_id, pk__in=wanted).order_by("id"))
    signers, signed = [], {}
    for start in range(0, len(locks), KEY_MAP_BUILD_CHUNK):
        chunk = locks[start : start + KEY_MAP_BUILD_CHUNK]
        forced = {str(lock.pk) for lock in chunk} if reissue else set()
        signers = _build_chunk(prop, chunk, build, signers, signed, reissue=forced)
    build.locks_checked, build.locks_signed = len(locks), len(signed)
    if signed:
        event_append(
            event_name="lock.key_maps_signed",
            actor=SYSTEM,
            property_id=property_id,
            payload={"buildId": build.pk, "reason": reason, "locks": len(signed)},
        )
    build.finished_at = timezone.now()
    build.duration_ms = int((time.perf_counter() - clock) * 1000)
    build.save(update_fields=["finished_at", "duration_ms", "locks_checked", "locks_signed"])
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
