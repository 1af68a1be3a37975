"""Planning people: users (with unit and groups), user groups and memberships."""

from __future__ import annotations

from collections import defaultdict

from django.contrib.contenttypes.models import ContentType

from apps.access import policies as access_policies
from apps.access.models import Membership, UserGroup, UserGroupGroupSource
from apps.access.selectors import user_group_list
from apps.accounts.models import User
from apps.core.exceptions import Forbidden
from apps.core.models import ExternalRef
from apps.imports.parsers import Row, RowError, path_join
from apps.imports.plans.common import (
    USER_FIELDS,
    AreaIndex,
    _error,
    _ids,
    _op,
    _people,
    _person,
    external_source,
    json_value,
)

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


# --- memberships -------------------------------------------------------------------------


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
