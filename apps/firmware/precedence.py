"""Which firmware version a lock, an area or a property must run (PURE: no ORM).

Precedence, first match wins: the lock's own assignment, then its area's, then each
containing area's from the nearest outwards (`Area.ancestor_ids`), then the property's,
then the global one (docs/FIRMWARE.md "Precedence").
"""

from collections.abc import Iterable, Mapping

from apps.firmware.choices import FirmwareAssignmentScope as S

# (scope, target id as str, or None for global) -> version
AssignmentMap = Mapping[tuple[str, str | None], str]


def assignment_map(rows: Iterable[tuple[str, object, object, object, str]]) -> dict[tuple[str, str | None], str]:
    """Rows of (scope, lock_id, area_id, property_id, version) → AssignmentMap."""
    result = {}
    for scope, lock_id, area_id, property_id, version in rows:
        target = {S.LOCK: lock_id, S.AREA: area_id, S.PROPERTY: property_id}.get(scope)
        result[(str(scope), None if target is None else str(target))] = version
    return result


def chain(*, lock_id=None, area_id=None, ancestor_ids: Iterable = (), property_id=None) -> list[tuple[str, str | None]]:
    """The assignment keys that apply, in precedence order."""
    keys: list[tuple[str, str | None]] = []
    if lock_id is not None:
        keys.append((S.LOCK.value, str(lock_id)))
    if area_id is not None:
        keys.append((S.AREA.value, str(area_id)))
        keys.extend((S.AREA.value, str(ancestor)) for ancestor in ancestor_ids)
    if property_id is not None:
        keys.append((S.PROPERTY.value, str(property_id)))
    keys.append((S.GLOBAL.value, None))
    return keys


def required_version(assignments: AssignmentMap, **where) -> str | None:
    """The version of the first assignment along `chain(**where)`, or None."""
    for key in chain(**where):
        if key in assignments:
            return assignments[key]
    return None


def winning_scope(assignments: AssignmentMap, **where) -> tuple[str, str | None] | None:
    """The (scope, target id) that decides the required version, or None."""
    return next((key for key in chain(**where) if key in assignments), None)
