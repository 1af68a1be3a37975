"""Reads for firmware: versions, their scopes, and the version each lock/area/property must run."""

from collections import ChainMap
from dataclasses import dataclass

from django.db.models import Q, QuerySet

from apps.core.choices import EntityTypeState
from apps.core.principal import ALL
from apps.firmware import assignment_cache, precedence
from apps.firmware.choices import FirmwareAssignmentScope as Scope
from apps.firmware.models import FirmwareAssignment, FirmwareVersion

_ROW = ("scope", "lock_id", "area_id", "property_id", "firmware_version__version")


def firmware_version_get(*, version: str) -> FirmwareVersion | None:
    return FirmwareVersion.objects.alive().filter(version=version).first()


def firmware_version_list() -> QuerySet[FirmwareVersion]:
    return FirmwareVersion.objects.alive()


def firmware_scope_list(*, firmware_version: FirmwareVersion, property_ids=ALL) -> list[FirmwareAssignment]:
    """Where `firmware_version` is assigned (spec `scopes`), limited to what `property_ids`
    reaches (ALL = everything; the global row is always shown). Targets that were deleted
    are left out: their assignment no longer decides anything."""
    queryset = (
        firmware_version.assignments.exclude(lock__type_state=EntityTypeState.DELETED)
        .exclude(area__type_state=EntityTypeState.DELETED)
        .exclude(property__type_state=EntityTypeState.DELETED)
        .select_related("lock")
        .order_by("id")
    )
    if property_ids is not ALL:
        queryset = queryset.filter(
            Q(scope=Scope.GLOBAL)
            | Q(scope__in=[Scope.AREA, Scope.PROPERTY], property_id__in=property_ids)
            | Q(scope=Scope.LOCK, lock__property_id__in=property_ids)
        )
    return list(queryset)


def _assignments(condition: Q) -> precedence.AssignmentMap:
    # unordered: the precedence decides, not the rows' order (and the ORM compiles less)
    return precedence.assignment_map(FirmwareAssignment.objects.filter(condition).order_by().values_list(*_ROW))


def _lock_where(lock) -> dict:
    area = lock.area if lock.area_id else None
    return {
        "lock_id": lock.pk,
        "area_id": lock.area_id,
        "ancestor_ids": area.ancestor_ids if area else [],
        "property_id": lock.property_id,
    }


def _condition(where: dict) -> Q:
    """The assignment rows that can matter along one precedence chain. A row with a lock (an
    area) is a lock (an area) assignment (firmwareassignment_target_matches_scope), so those
    two need no scope term: syncLock builds this on every sync."""
    condition = Q(scope=Scope.GLOBAL)
    if where.get("lock_id"):
        condition |= Q(lock_id=where["lock_id"])
    if where.get("area_id"):
        condition |= Q(area_id__in=[where["area_id"], *where.get("ancestor_ids", [])])
    if where.get("property_id"):
        condition |= Q(scope=Scope.PROPERTY, property_id=where["property_id"])
    return condition


_LOCKS = "locks"  # where every lock's own assignment is kept (never a property id)


def required_firmware_version(*, lock) -> str | None:
    """The version `lock` must run: its own assignment, else its area's (nearest containing
    area first), else its property's, else the global one; None when nothing applies.
    syncLock asks on every sync: no query while the assignments are kept per process."""
    where = _lock_where(lock)
    if lock.property_id is None:
        return precedence.required_version(_assignments(_condition(where)), **where)
    assignments = ChainMap(lock_assignment_map(), property_assignment_maps([lock.property_id])[str(lock.property_id)])
    return precedence.required_version(assignments, **where)


def lock_assignment_map() -> dict:
    """Every lock's own assignment ({("lock", lock id): version}), kept per process as the
    properties' maps are. Kept whole rather than by property: a lock moved to another property
    keeps its assignment, and no property's map would hold it."""
    version, maps = assignment_cache.assignment_maps_get({_LOCKS})
    if _LOCKS not in maps:
        rows = FirmwareAssignment.objects.filter(scope=Scope.LOCK).order_by().values_list(*_ROW)
        maps[_LOCKS] = precedence.assignment_map(rows)
        assignment_cache.assignment_maps_put(version, {_LOCKS: maps[_LOCKS]})
    return maps[_LOCKS]


def property_assignment_maps(property_ids) -> dict:
    """{str(property id): the assignments that can decide for it and its areas (global, the
    property's, its areas')}: kept per process (firmware.assignment_cache) while the
    assignments are unchanged, else all missing properties in one query."""
    property_ids = {str(pk) for pk in property_ids}
    version, maps = assignment_cache.assignment_maps_get(property_ids)
    missing = property_ids - maps.keys()
    if missing:
        # Area rows carry their area's property; lock rows have none (their lock decides).
        rows = FirmwareAssignment.objects.filter(Q(scope=Scope.GLOBAL) | Q(property_id__in=missing))
        shared, own = [], {pk: [] for pk in missing}
        for row in rows.order_by().values_list(*_ROW):
            (shared if row[0] == Scope.GLOBAL else own[str(row[3])]).append(row)
        read = {pk: precedence.assignment_map([*shared, *own[pk]]) for pk in missing}
        assignment_cache.assignment_maps_put(version, read)
        maps.update(read)
    return maps


def required_firmware_version_for_area(*, area) -> str | None:
    """What a lock installed in `area` with no assignment of its own must run."""
    return required_firmware_versions_for_areas([area])[area.pk]


def required_firmware_version_for_property(*, property_id) -> str | None:
    """What a lock of the property outside any assigned area must run."""
    return required_firmware_versions_for_properties([property_id])[property_id]


def required_firmware_versions_for_areas(areas) -> dict:
    """{area id: required version or None} for a page of areas: no query while their
    properties' assignments are kept, else one."""
    areas = list(areas)
    maps = property_assignment_maps({a.property_id for a in areas})
    return {
        a.pk: precedence.required_version(
            maps[str(a.property_id)], area_id=a.pk, ancestor_ids=a.ancestor_ids, property_id=a.property_id
        )
        for a in areas
    }


def required_firmware_versions_for_properties(property_ids) -> dict:
    """{property id: required version or None} for a page of properties: no query while
    their assignments are kept, else one."""
    property_ids = list(property_ids)
    maps = property_assignment_maps(property_ids)
    return {pk: precedence.required_version(maps[str(pk)], property_id=pk) for pk in property_ids}


def firmware_download_allowed_for_lock(*, lock, firmware_version: FirmwareVersion) -> bool:
    """A lock may fetch a firmware version only when it is the one it is required to run.

    Used by the API for callers of kind `lock`; lock credentials arrive with the keys issue.
    """
    return lock.type_state != EntityTypeState.DELETED and required_firmware_version(lock=lock) == (
        firmware_version.version
    )


def firmware_scope_list_for_lock(*, firmware_version: FirmwareVersion, lock) -> list[FirmwareAssignment]:
    """The assignments of `firmware_version` on `lock`'s own precedence chain."""
    return list(firmware_version.assignments.filter(_condition(_lock_where(lock))).order_by("id"))


@dataclass(frozen=True)
class LockFirmwareRow:
    lock: object
    required: str | None
    reported: str
    decided_by: tuple[str, str | None] | None

    @property
    def status(self) -> str:
        if self.required is None:
            return "no requirement"
        if not self.reported:
            return "unknown"
        return "up to date" if self.reported == self.required else "update pending"


def lock_firmware_table(*, property_id, locks) -> list[LockFirmwareRow]:
    """The given locks of a property (locks.selectors.locks_with_areas: live, with their area)
    with their required and reported firmware (one query more)."""
    locks = list(locks)
    area_ids = {str(lock.area_id) for lock in locks if lock.area_id}
    area_ids |= {i for lock in locks if lock.area_id for i in lock.area.ancestor_ids}
    assignments = _assignments(
        Q(scope=Scope.GLOBAL)
        | Q(scope=Scope.PROPERTY, property_id=property_id)
        | Q(scope=Scope.AREA, area_id__in=area_ids)
        | Q(scope=Scope.LOCK, lock_id__in=[lock.pk for lock in locks])
    )
    rows = []
    for lock in locks:
        where = _lock_where(lock)
        rows.append(
            LockFirmwareRow(
                lock=lock,
                required=precedence.required_version(assignments, **where),
                reported=lock.current_firmware_version,
                decided_by=precedence.winning_scope(assignments, **where),
            )
        )
    return rows
