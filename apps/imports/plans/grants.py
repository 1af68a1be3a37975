"""Planning door grants (lock or area, level, validity)."""

from __future__ import annotations

from collections import defaultdict
from datetime import datetime

from django.utils import timezone

from apps.access import policies as access_policies
from apps.access.selectors import grant_list
from apps.core.exceptions import Forbidden
from apps.imports.parsers import Row, path_join
from apps.imports.plans.common import (
    AreaIndex,
    _error,
    _op,
    _people,
    _person,
    json_value,
)
from apps.locks.selectors import lock_list

# --- grants ------------------------------------------------------------------------------

GRANT_FIELDS = ("accessLevel", "validFrom", "validUntil")


def _grant_values(grant) -> dict:
    return {
        "accessLevel": grant.access_level,
        "validFrom": json_value(grant.valid_from),
        "validUntil": json_value(grant.valid_until),
    }


def _plan_grants(prop, rows: list[Row], mode: str, principal) -> tuple[list, list]:
    """Grants match by person and lock or area among the active ones; a changed level or
    validity is an update (apply revokes the old grant and gives the new one, as
    grants cannot be edited)."""
    ops, errors = [], []
    by_ext, by_email = _people(prop, rows)
    areas = AreaIndex(prop)
    locks: dict[str, list] = defaultdict(list)
    for lock in lock_list(property_ids=frozenset({prop.pk})):
        locks[lock.display_name.casefold()].append(lock)
    active = list(grant_list(property_id=prop.pk, active_only=True).select_related("user", "lock", "area"))
    current: dict[tuple, list] = defaultdict(list)
    for grant in active:
        current[(grant.user_id, grant.lock_id, grant.area_id)].append(grant)
    now = timezone.now()
    named = set()
    for row in rows:
        v = row.values
        row_errors = len(errors)
        user = _person(errors, row, by_ext, by_email)
        lock = area = None
        if v.get("lock"):
            found = locks.get(v["lock"].casefold(), [])
            if len(found) != 1:
                _error(errors, row, "lock", f"matches {len(found)} locks" if found else "no such lock in this property")
            elif found[0].area_id is None:
                _error(errors, row, "lock", "the lock is not installed in an area")
            else:
                lock = found[0]
        else:
            found = areas.find(v["area"])
            if len(found) != 1:
                _error(errors, row, "area", f"matches {len(found)} areas" if found else "no such area in this property")
            else:
                area = areas.areas[found[0]]
        if v["accessLevel"] == "GUEST" and not v.get("validUntil"):
            _error(errors, row, "validUntil", "required for GUEST grants: guest access must end")
        if v.get("validUntil") and v["validUntil"] <= now:
            _error(errors, row, "validUntil", "must be in the future")
        if len(errors) > row_errors:
            continue
        if principal is not None:
            try:
                access_policies.check_may_grant(
                    principal, prop=prop, lock=lock, area=area, access_level=v["accessLevel"]
                )
            except Forbidden as refusal:
                _error(errors, row, "accessLevel", str(refusal))
                continue
        key = (user.pk, lock.pk if lock else None, area.pk if area else None)
        target = f"{user.email} at {lock.display_name if lock else path_join(areas.path(area.pk))}"
        if key in named:
            _error(errors, row, "lock" if lock else "area", "the same person and target as an earlier row")
            continue
        named.add(key)
        wanted = {
            "accessLevel": v["accessLevel"],
            "validFrom": json_value(v.get("validFrom")),
            "validUntil": json_value(v.get("validUntil")),
        }
        existing = current.get(key, [])
        if len(existing) > 1:
            _error(errors, row, "lock" if lock else "area", f"matches {len(existing)} active grants")
            continue
        ids = {
            "userId": str(user.pk),
            "lockId": str(lock.pk) if lock else None,
            "areaId": str(area.pk) if area else None,
        }
        if not existing:
            ops.append({"op": "create", "row": row.number, "key": target, "values": {**wanted, **ids}})
            continue
        before = _grant_values(existing[0])
        changes = {}
        for field in GRANT_FIELDS:
            same = before[field] == wanted[field]
            if not same and field != "accessLevel" and before[field] and wanted[field]:
                same = datetime.fromisoformat(before[field]) == datetime.fromisoformat(wanted[field])
            if not same:
                changes[field] = [before[field], wanted[field]]
        op = _op(row, target, existing[0].pk, changes)
        if changes:
            op["values"] = {**wanted, **ids}
        ops.append(op)
    if mode == "sync":
        for grant in sorted(active, key=lambda g: (g.user.email, str(g.lock_id), str(g.area_id))):
            if (grant.user_id, grant.lock_id, grant.area_id) not in named:
                where = grant.lock.display_name if grant.lock else path_join(areas.path(grant.area_id))
                ops.append({"op": "remove", "key": f"{grant.user.email} at {where}", "id": str(grant.pk)})
    return ops, errors
