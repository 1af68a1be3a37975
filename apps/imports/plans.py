"""The dry run: parsed rows against a property's current data → the plan (reads only).

A plan is a list of JSON operations, one per good row, in file order, then the removals:

- `{"op": "create", "row", "key", "values"}`
- `{"op": "update", "row", "key", "id", "changes": {column: [before, after]}}`
- `{"op": "unchanged", "row", "key", "id"}`
- `{"op": "remove", "key", "id", ...}` (mode `sync`: what the file leaves out)

Each planner also returns row errors for what needs the database to see (an unknown group, a
parent area that does not exist, a cycle, a row matching two objects). Apply
(services.import_run_apply) carries the plan out and, before it starts, builds it again:
if the two differ, the data changed since validation and apply is refused.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import datetime
from uuid import UUID

from django.contrib.contenttypes.models import ContentType
from django.utils import timezone

from apps.access import policies as access_policies
from apps.access.models import Membership, UserGroup, UserGroupGroupSource
from apps.access.selectors import grant_list, user_group_list
from apps.accounts.models import User
from apps.accounts.selectors import member_property_ids
from apps.areas.models import Area
from apps.areas.selectors import area_list
from apps.core.exceptions import Forbidden
from apps.core.models import ExternalRef
from apps.core.principal import Grant, Principal
from apps.imports.parsers import Parsed, Row, RowError, path_join
from apps.locks.selectors import lock_list

USER_FIELDS = {
    "email": "email",
    "displayName": "display_name",
    "firstName": "first_name",
    "lastName": "last_name",
    "phoneNumber": "phone_number",
}


def external_source(prop) -> str:
    """ExternalRef source of a property's imported ids: ids are per property, as each
    building's management system numbers its own people."""
    return f"import:{prop.pk}"


def json_value(value):
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, tuple | list):
        return [json_value(v) for v in value]
    return value


def principal_load(data: dict | None) -> Principal | None:
    """The API caller kept on the run (None: the staff admin)."""
    if not data:
        return None

    def uuid(value):
        return UUID(value) if value else None

    grants = tuple(Grant(g["permission"], uuid(g.get("propertyId")), uuid(g.get("userId"))) for g in data["grants"])
    user_id = uuid(data.get("userId"))
    return Principal(
        kind=data["kind"],
        id=UUID(data["id"]),
        grants=grants,
        label=data["label"],
        user_id=user_id,
        member_properties=(lambda: member_property_ids(user_id=user_id)) if user_id else frozenset(),
    )


def principal_dump(principal: Principal | None) -> dict | None:
    if principal is None:
        return None
    return {
        "kind": principal.kind,
        "id": str(principal.id),
        "label": principal.label,
        "userId": str(principal.user_id) if principal.user_id else None,
        "grants": [
            {
                "permission": g.permission,
                "propertyId": str(g.property_id) if g.property_id else None,
                "userId": str(g.user_id) if g.user_id else None,
            }
            for g in principal.grants
        ],
    }


class AreaIndex:
    """The property's live areas by name path (case-insensitive)."""

    def __init__(self, prop):
        self.areas = {a.pk: a for a in area_list(property_id=prop.pk)}
        self.by_path: dict[tuple, list] = defaultdict(list)
        self.by_name: dict[str, list] = defaultdict(list)
        for area in self.areas.values():
            self.by_path[self._fold(self.path(area.pk))].append(area.pk)
            self.by_name[area.display_name.casefold()].append(area.pk)

    @staticmethod
    def _fold(parts) -> tuple:
        return tuple(p.casefold() for p in parts)

    def path(self, area_id) -> tuple[str, ...]:
        parts, current, seen = [], self.areas.get(area_id), set()
        while current is not None and current.pk not in seen:
            seen.add(current.pk)
            parts.append(current.display_name)
            current = self.areas.get(current.parent_id)
        return tuple(reversed(parts))

    def find(self, path) -> list:
        return self.by_path.get(self._fold(path), [])


def _error(errors: list, row: Row, column: str, reason: str) -> None:
    value = row.values.get(column)
    text = path_join(value) if isinstance(value, tuple) and column in ("unit", "area", "parent") else value
    if isinstance(text, tuple):
        text = " | ".join(text)
    errors.append(RowError(row.number, column, "" if text is None else str(text), reason).as_dict())


# --- users -------------------------------------------------------------------------------


def _plan_users(prop, rows: list[Row], mode: str, principal) -> tuple[list, list]:
    ops, errors = [], []
    source = external_source(prop)
    user_type = ContentType.objects.get_for_model(User)
    areas = AreaIndex(prop)
    groups = list(user_group_list(property_id=prop.pk))
    group_by_id = {g.pk: g for g in groups}
    by_name: dict[str, list] = defaultdict(list)
    for group in groups:
        by_name[group.display_name.casefold()].append(group)
    area_group = {g.area_id: g for g in groups if g.area_id}
    residents = next(
        (g for g in groups if g.group_source == UserGroupGroupSource.PROPERTY and g.display_name == "Residents"), None
    )

    emails = [r.values["email"] for r in rows]
    ext_ids = [r.values["externalId"] for r in rows if r.values.get("externalId")]
    by_email = {u.email: u for u in User.objects.alive().filter(email__in=emails)}
    refs = ExternalRef.objects.filter(content_type=user_type, source=source)
    ext_to_user = dict(refs.filter(external_id__in=ext_ids).values_list("external_id", "object_id"))
    by_pk = {u.pk: u for u in User.objects.alive().filter(pk__in=ext_to_user.values())}
    matched_ids = set(by_pk) | {u.pk for u in by_email.values()}
    user_ext = dict(refs.filter(object_id__in=matched_ids).values_list("object_id", "external_id"))
    member_of: dict = defaultdict(set)
    for user_id, group_id in Membership.objects.filter(user_id__in=matched_ids, user_group__in=groups).values_list(
        "user_id", "user_group_id"
    ):
        member_of[user_id].add(group_id)

    seen_users = set()
    for row in rows:
        v = row.values
        by_ext = by_pk.get(ext_to_user.get(v.get("externalId"))) if v.get("externalId") else None
        by_mail = by_email.get(v["email"])
        if by_ext and by_mail and by_ext.pk != by_mail.pk:
            _error(errors, row, "email", f"externalId matches {by_ext.email} but the email matches another person")
            continue
        user = by_ext or by_mail
        if user is not None and user.pk in seen_users:
            _error(errors, row, "email", "the same person as an earlier row")
            continue
        target: list = []
        row_errors = len(errors)
        unit_group = None
        if v.get("unit"):
            found = areas.find(v["unit"])
            if len(found) != 1:
                reason = "no such area in this property" if not found else f"matches {len(found)} areas"
                _error(errors, row, "unit", reason)
            else:
                unit_group = area_group.get(found[0])
        for name in v.get("groups", ()):
            found_groups = by_name.get(name.casefold(), [])
            if len(found_groups) != 1:
                reason = "matches several groups" if found_groups else "no such group in this property"
                errors.append(RowError(row.number, "groups", name, reason).as_dict())
            else:
                target.append(found_groups[0].pk)
        if len(errors) > row_errors:
            continue
        wanted = ([unit_group.pk] if unit_group else []) + target
        if user is None:
            if not wanted and residents is not None:
                wanted = [residents.pk]
            values = {field: json_value(v[field]) for field in USER_FIELDS if field in v}
            if v.get("externalId"):
                values["externalId"] = v["externalId"]
            if wanted:
                values["groups"] = [group_by_id[g].display_name for g in wanted]
            ops.append(
                {"op": "create", "row": row.number, "key": v["email"], "values": values, "groupIds": _ids(wanted)}
            )
            continue
        seen_users.add(user.pk)
        changes = {}
        for column, field in USER_FIELDS.items():
            if column in v and getattr(user, field) != v[column]:
                changes[column] = [getattr(user, field), v[column]]
        if v.get("externalId") and user_ext.get(user.pk) != v["externalId"]:
            changes["externalId"] = [user_ext.get(user.pk), v["externalId"]]
        current = member_of[user.pk]
        if unit_group and unit_group.pk not in current:
            units = sorted(path_join(areas.path(group_by_id[g].area_id)) for g in current if group_by_id[g].area_id)
            changes["unit"] = [units[0] if units else None, path_join(v["unit"])]
        if set(target) - current:
            before = sorted(group_by_id[g].display_name for g in current if not group_by_id[g].area_id)
            after = sorted(set(before) | {group_by_id[g].display_name for g in target})
            changes["groups"] = [before, after]
        account = set(changes) - {"unit", "groups"}
        if account and principal is not None:
            try:
                access_policies.check_may_administer(principal, user, frozenset({prop.pk}))
            except Forbidden as refusal:
                _error(errors, row, "email", f"you may not change this person's account: {refusal}")
                continue
        op = {"op": "update" if changes else "unchanged", "row": row.number, "key": v["email"], "id": str(user.pk)}
        if changes:
            op["changes"] = changes
            op["groupIds"] = _ids(sorted(set(wanted) - current, key=str))
        ops.append(op)
    if mode == "sync":
        leaving = defaultdict(list)
        for user_id, group_id in (
            Membership.objects.filter(user_group__in=groups)
            .exclude(user_id__in=seen_users)
            .values_list("user_id", "user_group_id")
        ):
            leaving[user_id].append(group_id)
        emails_of = dict(User.objects.filter(pk__in=leaving).values_list("pk", "email"))
        for user_id in sorted(leaving, key=lambda pk: emails_of[pk]):
            ops.append(
                {"op": "remove", "key": emails_of[user_id], "id": str(user_id), "groupIds": _ids(leaving[user_id])}
            )
    return ops, errors


def _ids(ids) -> list[str]:
    return [str(i) for i in ids]


# --- groups ------------------------------------------------------------------------------


def _plan_groups(prop, rows: list[Row], mode: str, principal) -> tuple[list, list]:
    ops, errors = [], []
    by_name: dict[str, list[UserGroup]] = defaultdict(list)
    for group in user_group_list(property_id=prop.pk):
        by_name[group.display_name.casefold()].append(group)
    named = set()
    for row in rows:
        v = row.values
        found = by_name.get(v["name"].casefold(), [])
        if len(found) > 1:
            _error(errors, row, "name", f"matches {len(found)} groups")
            continue
        if not found:
            ops.append(
                {"op": "create", "row": row.number, "key": v["name"], "values": {"name": v["name"], "type": v["type"]}}
            )
            continue
        group = found[0]
        named.add(group.pk)
        if group.group_type != v["type"]:
            _error(errors, row, "type", f"a group's type is set when it is made (this one is {group.group_type})")
            continue
        changes = {"name": [group.display_name, v["name"]]} if group.display_name != v["name"] else {}
        ops.append(_op(row, v["name"], group.pk, changes))
    if mode == "sync":
        for groups in by_name.values():
            for group in groups:
                if group.pk not in named and group.group_source == UserGroupGroupSource.CUSTOM:
                    ops.append({"op": "remove", "key": group.display_name, "id": str(group.pk)})
    return ops, errors


def _op(row: Row, key: str, pk, changes: dict) -> dict:
    op = {"op": "update" if changes else "unchanged", "row": row.number, "key": key, "id": str(pk)}
    if changes:
        op["changes"] = changes
    return op


# --- memberships -------------------------------------------------------------------------


def _people(prop, rows: list[Row]) -> tuple[dict, dict]:
    """Who the rows name: (by externalId, by email)."""
    user_type = ContentType.objects.get_for_model(User)
    ext_ids = [r.values["externalId"] for r in rows if r.values.get("externalId")]
    refs = dict(
        ExternalRef.objects.filter(
            content_type=user_type, source=external_source(prop), external_id__in=ext_ids
        ).values_list("external_id", "object_id")
    )
    users = {u.pk: u for u in User.objects.alive().filter(pk__in=refs.values())}
    by_ext = {ext: users[pk] for ext, pk in refs.items() if pk in users}
    emails = [r.values["email"] for r in rows if r.values.get("email")]
    return by_ext, {u.email: u for u in User.objects.alive().filter(email__in=emails)}


def _person(errors: list, row: Row, by_ext: dict, by_email: dict):
    v = row.values
    a = by_ext.get(v.get("externalId")) if v.get("externalId") else None
    b = by_email.get(v.get("email")) if v.get("email") else None
    if a and b and a.pk != b.pk:
        _error(errors, row, "email", f"externalId matches {a.email} but the email matches another person")
        return None
    if not (a or b):
        column = "externalId" if v.get("externalId") and not v.get("email") else "email"
        _error(errors, row, column, "no such person (import users first)")
        return None
    return a or b


def _plan_memberships(prop, rows: list[Row], mode: str, principal) -> tuple[list, list]:
    ops, errors = [], []
    groups = list(user_group_list(property_id=prop.pk))
    by_name: dict[str, list[UserGroup]] = defaultdict(list)
    for group in groups:
        by_name[group.display_name.casefold()].append(group)
    by_ext, by_email = _people(prop, rows)
    current = set(Membership.objects.filter(user_group__in=groups).values_list("user_id", "user_group_id"))
    named = set()
    for row in rows:
        v = row.values
        user = _person(errors, row, by_ext, by_email)
        found = by_name.get(v["group"].casefold(), [])
        if len(found) != 1:
            _error(errors, row, "group", f"matches {len(found)} groups" if found else "no such group in this property")
            continue
        if user is None:
            continue
        pair = (user.pk, found[0].pk)
        if pair in named:
            _error(errors, row, "group", "the same membership as an earlier row")
            continue
        named.add(pair)
        key = f"{user.email} in {found[0].display_name}"
        ids = {"userId": str(user.pk), "groupId": str(found[0].pk)}
        if pair in current:
            ops.append({"op": "unchanged", "row": row.number, "key": key, **ids})
        else:
            ops.append({"op": "create", "row": row.number, "key": key, "values": ids})
    if mode == "sync":
        names = {g.pk: g.display_name for g in groups}
        leaving = current - named
        emails = dict(User.objects.filter(pk__in={u for u, _ in leaving}).values_list("pk", "email"))
        for user_id, group_id in sorted(leaving, key=lambda p: (emails[p[0]], names[p[1]])):
            ops.append(
                {
                    "op": "remove",
                    "key": f"{emails[user_id]} in {names[group_id]}",
                    "userId": str(user_id),
                    "groupId": str(group_id),
                }
            )
    return ops, errors


# --- areas -------------------------------------------------------------------------------


def _plan_areas(prop, rows: list[Row], mode: str, principal) -> tuple[list, list]:
    """Areas match by name within the property (a name twice in the property is an error for
    its row). The parent path's last name names the parent, the names before it must be that
    parent's ancestors in the tree as it will be after the import; a move that would put an
    area under itself is a cycle."""
    ops, errors = [], []
    index = AreaIndex(prop)
    areas = index.areas
    live = {a.pk: a for a in Area.objects.filter(pk__in=areas).only("id", "area_type", "display_name", "parent_id")}
    good: list[tuple[Row, object]] = []  # (row, existing area id or None)
    for row in rows:
        found = index.by_name.get(row.values["name"].casefold(), [])
        if len(found) > 1:
            _error(errors, row, "name", f"matches {len(found)} areas in this property")
            continue
        parent = row.values.get("parent") or ()
        parents = index.by_name.get(parent[-1].casefold(), []) if parent else []
        if len(parents) > 1:
            _error(errors, row, "parent", f"the parent's name matches {len(parents)} areas in this property")
            continue
        if found and live[found[0]].area_type != row.values["type"]:
            _error(
                errors, row, "type", f"an area's type is set when it is made (this one is {live[found[0]].area_type})"
            )
            continue
        good.append((row, found[0] if found else None))
    # The tree after the import, by folded name: name → parent name (None: top level).
    parent_of: dict[str, str | None] = {}
    display: dict[str, str] = {}
    for area in areas.values():
        parent = areas.get(area.parent_id)
        parent_of[area.display_name.casefold()] = parent.display_name.casefold() if parent else None
        display[area.display_name.casefold()] = area.display_name
    for row, _ in good:
        parent = row.values.get("parent")
        parent_of[row.values["name"].casefold()] = parent[-1].casefold() if parent else None
        display[row.values["name"].casefold()] = row.values["name"]
    # Rows that would put an area inside itself, then rows whose parent is nowhere (also when
    # its own row was refused), leave the tree as it is now.
    original = {
        a.display_name.casefold(): (areas[a.parent_id].display_name.casefold() if a.parent_id else None)
        for a in areas.values()
    }

    def on_cycle(name: str) -> bool:
        current, steps = parent_of.get(name), 0
        while current is not None and steps <= len(parent_of):
            if current == name:
                return True
            current, steps = parent_of.get(current), steps + 1
        return False

    def leave_out(row: Row, existing, reason: str) -> None:
        rejected[row.number] = reason
        name = row.values["name"].casefold()
        if existing is not None:
            parent_of[name] = original[name]
        else:
            parent_of.pop(name, None)

    rejected: dict[int, str] = {}
    for row, existing in [(r, e) for r, e in good if on_cycle(r.values["name"].casefold())]:
        leave_out(row, existing, "a cycle: the area would be inside itself")
    changed = True
    while changed:
        changed = False
        for row, existing in good:
            parent = row.values.get("parent") or ()
            if row.number not in rejected and parent and parent[-1].casefold() not in parent_of:
                leave_out(row, existing, "no such area in this property or this file")
                changed = True
    planned: list[tuple[Row, object, str | None]] = []
    for row, existing in good:
        if row.number in rejected:
            _error(errors, row, "parent", rejected[row.number])
            continue
        name = row.values["name"].casefold()
        parent = row.values.get("parent") or ()
        chain, current = [], parent_of.get(name)
        while current is not None and current not in chain:
            chain.append(current)
            current = parent_of.get(current)
        expected = tuple(reversed(chain))
        if tuple(p.casefold() for p in parent) != expected:
            actual = path_join(display[c] for c in expected) or "the top level"
            _error(errors, row, "parent", f"the path does not match the tree: that parent is under {actual}")
            continue
        planned.append((row, existing, parent[-1] if parent else None))
    # Parents first: a created area's parent may be created by a later row.
    depth: dict[str, int] = {}
    for name in parent_of:
        current, level = parent_of.get(name), 0
        while current is not None and level < 1000:
            level += 1
            current = parent_of.get(current)
        depth[name] = level
    named = set()
    for row, existing, parent_name in sorted(
        planned, key=lambda p: (depth[p[0].values["name"].casefold()], p[0].number)
    ):
        v = row.values
        path = path_join((*(v.get("parent") or ()), v["name"]))
        if existing is None:
            values = {"name": v["name"], "type": v["type"], "parent": parent_name}
            ops.append({"op": "create", "row": row.number, "key": path, "values": values})
            continue
        named.add(existing)
        area = areas[existing]
        changes = {}
        before_parent = areas[area.parent_id].display_name if area.parent_id else None
        if (before_parent or "").casefold() != (parent_name or "").casefold():
            before = path_join(index.path(area.parent_id)) if area.parent_id else None
            changes["parent"] = [before, path_join(v.get("parent") or ()) or None]
        if area.display_name != v["name"]:
            changes["name"] = [area.display_name, v["name"]]
        ops.append(_op(row, path, existing, changes))
    if mode == "sync":
        leaving = [pk for pk in areas if pk not in named]
        for pk in sorted(leaving, key=lambda pk: (-len(index.path(pk)), index.path(pk))):
            ops.append({"op": "remove", "key": path_join(index.path(pk)), "id": str(pk)})
    return ops, errors


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


PLANNERS = {
    "users": _plan_users,
    "groups": _plan_groups,
    "memberships": _plan_memberships,
    "areas": _plan_areas,
    "grants": _plan_grants,
}


SYNC_WITH_ERRORS = "Sync mode removes nothing while the file has errors: fix them to see the removals."


def plan_build(*, prop, parsed: Parsed, mode: str, principal: Principal | None = None) -> tuple[list, list]:
    """(operations, row errors) for `parsed` against the property as it is now."""
    ops, errors = PLANNERS[parsed.kind](prop, parsed.rows, mode, principal)
    if mode == "sync" and (parsed.errors or errors) and any(op["op"] == "remove" for op in ops):
        # A bad row may name something that would otherwise look left out: remove nothing.
        ops = [op for op in ops if op["op"] != "remove"]
        errors.append(RowError(0, "", "", SYNC_WITH_ERRORS).as_dict())
    return ops, errors


def plan_summary(ops: list[dict]) -> dict:
    counts = {"create": 0, "update": 0, "unchanged": 0, "remove": 0}
    for op in ops:
        counts[op["op"]] += 1
    return counts
