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
transaction has ended (committed: on_commit; rolled back: the callback is gone): what it reads
inside that transaction could still roll back. Like accounts.credential_cache: plain dicts,
one request at a time per gunicorn sync worker.
"""

from django.db import connection, transaction

from apps.core.versions import version_get, versions_forget

COUNTER, TABLE = "firmware_assignments", "firmware_firmwareassignmentversion"  # registered in ready()
_MAX_ENTRIES = 4096  # properties kept per process; past it, start again

_maps: dict = {}  # str(property id) → {(scope, target id): version}, all read under _version
_version: int | None = None
_changing = False  # this process raised the value in a transaction not known to have ended


def assignment_maps_get(property_ids) -> tuple[int | None, dict]:
    """(version, {property id: map}) for those of `property_ids` kept under the current
    value; version None when it cannot be read or this process must not keep what it reads."""
    global _version
    if _change_pending():
        return None, {}
    version = version_get(COUNTER)
    if version is None:
        return None, {}
    if version != _version:
        _maps.clear()
        _version = version
    return version, {pk: _maps[pk] for pk in property_ids if pk in _maps}


def assignment_maps_put(version: int | None, maps: dict) -> None:
    """Keep `maps`, read after `version` was (ignored when version is None or stale)."""
    if version is None or version != _version or _change_pending():
        return
    if len(_maps) + len(maps) > _MAX_ENTRIES:
        _maps.clear()
    _maps.update(maps)


def assignments_changed() -> None:
    """This process raised the value (inside the change's transaction): forget every copy and
    keep none until that transaction has ended."""
    global _changing
    _maps.clear()
    versions_forget()
    _changing = True
    transaction.on_commit(_committed)


def _committed() -> None:
    global _changing
    _changing = False
    versions_forget()


def _change_pending() -> bool:
    """True while this process's own change is uncommitted: what it reads sees that change,
    which may still roll back. A rollback runs no callback; it drops `_committed` from the
    connection's pending on-commit callbacks (Django's `run_on_commit`), which is how it is
    told apart from a change still in progress."""
    global _changing
    if not _changing:
        return False
    if any(entry[1] is _committed for entry in connection.run_on_commit):
        return True
    _changing = False  # rolled back (a commit would have run `_committed`)
    _maps.clear()
    versions_forget()
    return False


def assignment_cache_clear() -> None:
    """Forget every kept map in this process (tests)."""
    global _version
    _maps.clear()
    _version = None
