"""Reads for locks: scoped lists, lock credentials (authentication), access logs and gaps, the
private part of a page of locks, and provable revocation (who acknowledged a change)."""

from collections import defaultdict
from typing import NamedTuple

from django.db.models import F, Max, OuterRef, Q, QuerySet, Subquery

from apps.areas.models import Area
from apps.core.choices import EntityTypeState
from apps.core.links import IdLink, links_read
from apps.core.prepared import PreparedSelect
from apps.core.principal import ALL, Grant, Principal
from apps.firmware import precedence
from apps.firmware.choices import FirmwareAssignmentScope as Scope
from apps.firmware.models import FirmwareAssignment
from apps.keys.choices import KeyOwnerType, KeyPurpose
from apps.keys.models import Key
from apps.locks.constants import LOCK_CALLER
from apps.locks.handlers import TRACKED_EVENTS
from apps.locks.models import (
    KeyMapRequest,
    Lock,
    LockAccessLog,
    LockAccessLogGap,
    LockCredential,
    LockHealth,
    SignedKeyMap,
)


def lock_list(*, property_ids=ALL) -> QuerySet[Lock]:
    """Live locks the caller reaches: ALL sees every lock (also those in no property), a
    property-scoped caller only its properties' locks."""
    queryset = Lock.objects.alive().select_related("area")
    if property_ids is not ALL:
        queryset = queryset.filter(property_id__in=property_ids)
    return queryset


ATTENTION = Q(battery_low=True) | Q(online=False) | Q(held_open=True) | Q(stale=True)


def lock_health_list(*, property_id) -> QuerySet[LockHealth]:
    """The health of the property's live locks that have reported (docs/INTEGRATIONS.md "Lock
    health"); ATTENTION: battery low, offline, held open or stale."""
    return (
        LockHealth.objects.filter(lock__property_id=property_id)
        .exclude(lock__type_state=EntityTypeState.DELETED)
        .select_related("lock")
    )


def lock_get(*, lock_id, property_ids=ALL) -> Lock | None:
    return lock_list(property_ids=property_ids).filter(pk=lock_id).first()


def lock_get_plain(*, lock_id, property_ids=ALL) -> Lock | None:
    """`lock_get` with nothing related loaded (no area, no external refs): for syncLock, which
    reads the row again under its row lock."""
    queryset = Lock.objects.alive()
    if property_ids is not ALL:
        queryset = queryset.filter(property_id__in=property_ids)
    return queryset.filter(pk=lock_id).first()


def lock_for_install(*, lock_id, property_id) -> Lock | None:
    """A live lock that may be installed in `property_id`: already in it, or in no property yet."""
    return (
        Lock.objects.alive()
        .filter(Q(property_id=property_id) | Q(property__isnull=True), pk=lock_id)
        .select_related("area")
        .first()
    )


# --- lock credentials ----------------------------------------------------------------------


def principal_for_lock(lock: Lock) -> Principal:
    """A lock calling with its own secret: kind `lock`, the non-grantable `lock` permission on
    its property; views allow it only itself (getLock, syncLock, its firmware)."""
    return Principal(
        kind=LOCK_CALLER,
        id=lock.pk,
        grants=(Grant(LOCK_CALLER, property_id=lock.property_id),),
        label=f"lock:{lock.pk}",
    )


def principal_for_lock_credential(credential: LockCredential) -> Principal:
    return principal_for_lock(credential.lock)


# Every syncLock authenticates with its credential: built and compiled once per process.
_CREDENTIAL = PreparedSelect(
    lambda prefix: LockCredential.objects.filter(prefix=prefix, revoked_at__isnull=True).select_related("lock__area"),
    str,
)


def lock_credential_find(prefix: str) -> LockCredential | None:
    """The unrevoked credential of a live lock with this public prefix (its lock and the lock's
    area loaded: syncLock answers from them, PROTOCOL.md §6.4). The prefix is unique."""
    credential = _CREDENTIAL.first(prefix)
    if credential is None or credential.lock.type_state == EntityTypeState.DELETED:
        return None
    return credential


# --- private part of a page of locks --------------------------------------------------------


def lock_keys_for(lock_ids) -> dict:
    """{lock id: {"SIGN_VERIFY": Key, "ENCRYPT_DECRYPT": Key}} of active lockKeys, in one query."""
    found: dict = defaultdict(dict)
    for key in Key.objects.filter(
        owner_type=KeyOwnerType.LOCK,
        owner_id__in=list(lock_ids),
        purpose=KeyPurpose.LOCK_KEY,
        type_state=EntityTypeState.ACTIVE,
    ):
        found[key.owner_id][key.key_mode] = key
    return found


def _active_lock_keys() -> QuerySet[Key]:
    return Key.objects.filter(
        owner_type=KeyOwnerType.LOCK,
        purpose=KeyPurpose.LOCK_KEY,
        key_mode="SIGN_VERIFY",
        type_state=EntityTypeState.ACTIVE,
    )


def lock_kids(lock_ids) -> dict:
    """{lock id: kid of its active Ed25519 lockKey} (phones' access maps name the lock by it,
    PROTOCOL.md §7.5), in one query."""
    return dict(_active_lock_keys().filter(owner_id__in=list(lock_ids)).values_list("owner_id", "kid"))


def locks_with_areas(*, property_id) -> QuerySet[Lock]:
    """A property's live locks with their area, by name (the firmware table's rows)."""
    return Lock.objects.alive().filter(property_id=property_id).select_related("area").order_by("display_name", "id")


class AreaLinks(NamedTuple):
    lock_ids: list[str]
    sub_area_ids: list[str]
    external_refs: list


def area_links(area_ids) -> dict[object, AreaLinks]:
    """{area id: AreaLinks} (the area API's lockIds, subAreaIds and externalRefs: live locks and
    live children by id, refs by id) for these areas, in one query (core.links)."""
    (locks, children), refs = links_read(
        area_ids, [IdLink(Lock, "area", alive=True), IdLink(Area, "parent", alive=True)], refs_of=Area
    )
    return {pk: AreaLinks(locks[pk], children[pk], refs[pk]) for pk in locks}


def locks_installed(property_id) -> dict[str, str]:
    """{str(lock id): str(area id)} for a property's live locks installed in an area (access.doors)."""
    rows = Lock.objects.alive().filter(property_id=property_id, area__isnull=False).values_list("id", "area_id")
    return {str(pk): str(area) for pk, area in rows}


def lock_names(property_id) -> dict[str, str]:
    """{str(lock id): display name} for every lock of a property, deleted ones too (access.doors)."""
    return {str(i): n for i, n in Lock.objects.filter(property_id=property_id).values_list("id", "display_name")}


def lock_areas_and_kids(lock_ids) -> dict[str, tuple[str | None, str | None]]:
    """{str(lock id): (str(area id) or None, kid of its active lockKey or None)}, in one query:
    what a phone's access map says of each lock (PROTOCOL.md §7.5)."""
    kid = _active_lock_keys().filter(owner_id=OuterRef("pk")).values("kid")[:1]
    rows = Lock.objects.filter(pk__in=list(lock_ids)).annotate(kid=Subquery(kid)).values_list("id", "area_id", "kid")
    return {str(pk): (str(area_id) if area_id else None, kid) for pk, area_id, kid in rows}


def lock_credential_ids_for(lock_ids) -> dict:
    """{lock id: id of its newest unrevoked credential} (spec private.apiKey), in one query."""
    found = {}
    for lock_id, credential_id in (
        LockCredential.objects.filter(lock_id__in=list(lock_ids), revoked_at__isnull=True)
        .order_by("id")
        .values_list("lock_id", "id")
    ):
        found[lock_id] = credential_id
    return found


def lock_missing_counts(lock_ids) -> dict:
    """{lock id: number of access-log sequence numbers still missing}, in one query."""
    counts: dict = defaultdict(int)
    for lock_id, first, last in LockAccessLogGap.objects.filter(lock_id__in=list(lock_ids)).values_list(
        "lock_id", "first_sequence", "last_sequence"
    ):
        counts[lock_id] += last - first + 1
    return counts


def required_firmware_versions_for_locks(locks) -> dict:
    """{lock id: the firmware version it must run, or None} for a page of locks, in one query
    (the precedence of apps.firmware: lock > nearest area > containing areas > property > global)."""

    locks = list(locks)
    if not locks:
        return {}
    area_ids = {str(lock.area_id) for lock in locks if lock.area_id}
    area_ids |= {i for lock in locks if lock.area_id for i in lock.area.ancestor_ids}
    rows = FirmwareAssignment.objects.filter(
        Q(scope=Scope.GLOBAL)
        | Q(scope=Scope.PROPERTY, property_id__in={lock.property_id for lock in locks if lock.property_id})
        | Q(scope=Scope.AREA, area_id__in=area_ids)
        | Q(scope=Scope.LOCK, lock_id__in=[lock.pk for lock in locks])
    ).values_list("scope", "lock_id", "area_id", "property_id", "firmware_version__version")
    assignments = precedence.assignment_map(rows)
    return {
        lock.pk: precedence.required_version(
            assignments,
            lock_id=lock.pk,
            area_id=lock.area_id,
            ancestor_ids=lock.area.ancestor_ids if lock.area_id else [],
            property_id=lock.property_id,
        )
        for lock in locks
    }


# --- access logs -----------------------------------------------------------------------------


def access_log_list(*, lock: Lock) -> QuerySet[LockAccessLog]:
    """A lock's access logs (the view pages them newest first, by the lock's sequence)."""
    return LockAccessLog.objects.filter(lock=lock)


def access_log_gaps(*, lock: Lock) -> QuerySet[LockAccessLogGap]:
    """Ranges of sequence numbers the lock has not delivered, oldest first."""
    return LockAccessLogGap.objects.filter(lock=lock).order_by("first_sequence")


# --- provable revocation --------------------------------------------------------------------


def _lock_row(lock: Lock, required: int) -> dict:
    return {
        "lockId": str(lock.pk),
        "displayName": lock.display_name,
        "propertyId": str(lock.property_id) if lock.property_id else None,
        "areaId": str(lock.area_id) if lock.area_id else None,
        "requiredKeyMapVersion": required,
        "appliedKeyMapVersion": lock.applied_key_map_version,
        "appliedAt": lock.applied_at,
        "lastKnownSyncDate": lock.last_known_sync_date,
        "keyMapNotAfter": lock.signed_key_map_not_after,
    }


def event_acknowledgements(*, event) -> dict:
    """For one change (event): which locks must apply a new key map because of it, and which of
    them acknowledged it (PROTOCOL.md §8).

    The change is in every map built after it was committed. For each property the event asked
    to rebuild, take the first build that answered it; a lock is concerned when its newest map
    up to that build was signed at or after the event's creation (conservative: a build racing
    with the change counts too), and it has acknowledged the change when the version it applied
    is at least that map's version. Deprovisioned locks are left out.
    """

    requests = list(KeyMapRequest.objects.filter(event_id=event.pk).select_related("build").order_by("id"))
    result = {
        "eventId": str(event.pk),
        "eventName": event.event_name,
        "tracked": bool(requests) or event.event_name in TRACKED_EVENTS,
        "keyMapsBuilt": all(r.build_id for r in requests) if requests else False,
        "propertyIds": sorted({str(r.property_id) for r in requests}),
        "locks": 0,
        "acknowledged": 0,
        "pending": 0,
        "acknowledgedLocks": [],
        "pendingLocks": [],
    }
    first_build: dict[str, object] = {}
    for request in requests:
        if request.build_id is None:
            continue
        current = first_build.get(str(request.property_id))
        if current is None or request.build.started_at < current.started_at:
            first_build[str(request.property_id)] = request.build
    required: dict = {}
    for property_id, build in first_build.items():
        rows = (
            SignedKeyMap.objects.filter(
                build__property_id=property_id,
                build__started_at__gte=event.created_at,
                build__started_at__lte=build.started_at,
            )
            .values("lock_id")
            .annotate(version=Max("version"))
        )
        for row in rows:
            required[row["lock_id"]] = max(row["version"], required.get(row["lock_id"], 0))
    locks = Lock.objects.alive().filter(pk__in=list(required)).order_by("display_name", "id")
    for lock in locks:
        row = _lock_row(lock, required[lock.pk])
        if lock.applied_key_map_version >= required[lock.pk]:
            result["acknowledgedLocks"].append(row)
        else:
            result["pendingLocks"].append(row)
    result["acknowledged"], result["pending"] = len(result["acknowledgedLocks"]), len(result["pendingLocks"])
    result["locks"] = result["acknowledged"] + result["pending"]
    return result


def signed_key_map_current(*, lock: Lock) -> SignedKeyMap | None:
    """The newest signed key map of a lock."""
    return SignedKeyMap.objects.filter(lock=lock, version=lock.signed_key_map_version).first()


def key_map_status(*, lock: Lock) -> dict:
    """Has the lock applied the newest signed key map? `pendingSince`: when the oldest map it
    has not acknowledged was signed (a revocation in it is not yet effective at the door);
    `unsignedChanges`: changes of its property that no key-map build has answered yet."""
    pending_since = None
    if lock.key_map_pending:
        pending_since = (
            SignedKeyMap.objects.filter(lock=lock, version__gt=lock.applied_key_map_version)
            .order_by("version")
            .values_list("issued_at", flat=True)
            .first()
        )
    unsigned = 0
    if lock.property_id:
        unsigned = KeyMapRequest.objects.filter(property_id=lock.property_id, build__isnull=True).count()
    return {
        "signed": lock.signed_key_map_version,
        "applied": lock.applied_key_map_version,
        "appliedAt": lock.applied_at,
        "pending": lock.key_map_pending,
        "pendingSince": pending_since,
        "unsignedChanges": unsigned,
    }


def locks_key_map_pending(*, property_ids=ALL) -> list[tuple[Lock, object]]:
    """Live locks that have not acknowledged their newest signed key map, each with when the
    oldest map they have not applied was signed; longest-waiting first."""
    oldest = SignedKeyMap.objects.filter(lock=OuterRef("pk"), version__gt=OuterRef("applied_key_map_version"))
    locks = (
        lock_list(property_ids=property_ids)
        .filter(applied_key_map_version__lt=F("signed_key_map_version"))
        .annotate(pending_since=Subquery(oldest.order_by("version").values("issued_at")[:1]))
        .select_related("property")
        .order_by("pending_since", "display_name")
    )
    return [(lock, lock.pending_since) for lock in locks]
