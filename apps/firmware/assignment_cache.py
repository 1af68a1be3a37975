"""A per-process copy of each property's firmware assignments, emptied by a version number.

getProperty, listProperties, getArea and listAreas show `private.requiredFirmwareVersion`, and
reading the assignment rows (one ORM query) cost about as much as the bare DRF view's whole
request (docs/PERFORMANCE.md, issue 17). A process keeps, per property, the assignments that
can decide for it and its areas (the global row, the property's row, its areas' rows), under
the value of `FirmwareAssignmentVersion` that was read *before* the rows. That value is read
with the API-key counter in the request's one counter query (core.versions), so a request
that finds its property here runs no firmware query at all.

Every write that changes an assignment (firmware_assign, firmware_unassign) raises the value
in its own transaction (services.firmware_assignment_version_bump), so the next request in
every process, after the commit, reads the rows again. Deleting a target needs no bump: areas,
properties and locks are deleted softly and keep their row, which decides only for its own
target id, and no read asks for a deleted target (ids are never reused).

A process that raised the value itself forgets its copies at once, and keeps none until its
transaction has ended (core.kept, which holds the bookkeeping).
"""

from apps.core.kept import KeptByCounter

COUNTER, TABLE = "firmware_assignments", "firmware_firmwareassignmentversion"  # registered in ready()

_kept = KeptByCounter(COUNTER)  # str(property id) → {(scope, target id): version}


def assignment_maps_get(property_ids) -> tuple[int | None, dict]:
    """(version, {property id: map}) for those of `property_ids` kept under the current
    value; version None when it cannot be read or this process must not keep what it reads."""
    return _kept.get(property_ids)


def assignment_maps_put(version: int | None, maps: dict) -> None:
    """Keep `maps`, read after `version` was (ignored when version is None or stale)."""
    _kept.put(version, maps)


def assignments_changed() -> None:
    """This process raised the value (inside the change's transaction): forget every copy and
    keep none until that transaction has ended."""
    _kept.changed()


def assignment_cache_clear() -> None:
    """Forget every kept map in this process (tests)."""
    _kept.clear()
