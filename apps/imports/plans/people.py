"""Planning people: users (with unit and groups), user groups and memberships."""

from __future__ import annotations

from collections import defaultdict
from types import SimpleNamespace

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


PERSON_FIELDS = ("id", "is_staff", *USER_FIELDS.values())


def _persons(users) -> list[SimpleNamespace]:
    """The people as plain records of the fields a plan compares (and `pk`, `is_staff` for
    the policy): 2,000 at a time, model instances cost more than the rest of the plan."""
    return [
        SimpleNamespace(pk=row[0], **dict(zip(PERSON_FIELDS, row, strict=True)))
        for row in users.values_list(*PERSON_FIELDS)
    ]


class UsersPlanner:
    """Users, a chunk of rows at a time (`rows`), then the sync removals (`removals`). What the
    whole file needs is read once (the property's groups and areas); the people a chunk names
    are looked up with it, so memory follows the chunk, not the file."""

    def __init__(self, prop, mode: str, principal):
        self.prop, self.mode, self.principal = prop, mode, principal
        self.source = external_source(prop)
        self.user_type = ContentType.objects.get_for_model(User)
        self.areas = AreaIndex(prop)
        self.groups = list(user_group_list(property_id=prop.pk))
        self.group_by_id = {g.pk: g for g in self.groups}
        self.by_name: dict[str, list] = defaultdict(list)
        for group in self.groups:
            self.by_name[group.display_name.casefold()].append(group)
        self.area_group = {g.area_id: g for g in self.groups if g.area_id}
        self.residents = next(
            (
                g
                for g in self.groups
                if g.group_source == UserGroupGroupSource.PROPERTY and g.display_name == "Residents"
            ),
            None,
        )
        self.seen_users: set = set()

    def _people(self, rows: list[Row]):
        emails = [r.values["email"] for r in rows]
        ext_ids = [r.values["externalId"] for r in rows if r.values.get("externalId")]
        by_email = {u.email: u for u in _persons(User.objects.alive().filter(email__in=emails))}
        # account_id IS NULL: an import's links have no integration account, and it lets the
        # database use the partial unique index on (content type, source, external id).
        refs = ExternalRef.objects.filter(content_type=self.user_type, source=self.source, account_id__isnull=True)
        ext_to_user = dict(refs.filter(external_id__in=ext_ids).values_list("external_id", "object_id"))
        linked = set(ext_to_user.values())
        by_pk = {u.pk: u for u in by_email.values() if u.pk in linked}
        missing = linked - set(by_pk)
        if missing:
            by_pk.update({u.pk: u for u in _persons(User.objects.alive().filter(pk__in=missing))})
        matched_ids = set(by_pk) | {u.pk for u in by_email.values()}
        # A person has one id per source: those found by their id have it; ask only for the rest.
        user_ext = {user_id: external_id for external_id, user_id in ext_to_user.items()}
        unlinked = matched_ids - linked
        if unlinked:
            user_ext.update(refs.filter(object_id__in=unlinked).values_list("object_id", "external_id"))
        member_of: dict = defaultdict(set)
        for user_id, group_id in Membership.objects.filter(user_id__in=matched_ids).values_list(
            "user_id", "user_group_id"
        ):
            if group_id in self.group_by_id:
                member_of[user_id].add(group_id)
        return by_email, ext_to_user, by_pk, user_ext, member_of

    def rows(self, rows: list[Row], errors: list) -> list[dict]:
        ops = []
        areas, group_by_id = self.areas, self.group_by_id
        by_email, ext_to_user, by_pk, user_ext, member_of = self._people(rows)
        for row in rows:
            v = row.values
            by_ext = by_pk.get(ext_to_user.get(v.get("externalId"))) if v.get("externalId") else None
            by_mail = by_email.get(v["email"])
            if by_ext and by_mail and by_ext.pk != by_mail.pk:
                _error(errors, row, "email", f"externalId matches {by_ext.email} but the email matches another person")
                continue
            user = by_ext or by_mail
            if user is not None and user.pk in self.seen_users:
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
                    unit_group = self.area_group.get(found[0])
            for name in v.get("groups", ()):
                found_groups = self.by_name.get(name.casefold(), [])
                if len(found_groups) != 1:
                    reason = "matches several groups" if found_groups else "no such group in this property"
                    errors.append(RowError(row.number, "groups", name, reason).as_dict())
                else:
                    target.append(found_groups[0].pk)
            if len(errors) > row_errors:
                continue
            wanted = ([unit_group.pk] if unit_group else []) + target
            if user is None:
                if not wanted and self.residents is not None:
                    wanted = [self.residents.pk]
                values = {field: json_value(v[field]) for field in USER_FIELDS if field in v}
                if v.get("externalId"):
                    values["externalId"] = v["externalId"]
                if wanted:
                    values["groups"] = [group_by_id[g].display_name for g in wanted]
                ops.append(
                    {"op": "create", "row": row.number, "key": v["email"], "values": values, "groupIds": _ids(wanted)}
                )
                continue
            self.seen_users.add(user.pk)
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
            if account and self.principal is not None:
                try:
                    access_policies.check_may_administer(self.principal, user, frozenset({self.prop.pk}))
                except Forbidden as refusal:
                    _error(errors, row, "email", f"you may not change this person's account: {refusal}")
                    continue
            op = {"op": "update" if changes else "unchanged", "row": row.number, "key": v["email"], "id": str(user.pk)}
            if changes:
                op["changes"] = changes
                op["groupIds"] = _ids(sorted(set(wanted) - current, key=str))
            ops.append(op)
        return ops

    def removals(self) -> list[dict]:
        """Sync: everyone in the property's groups whom no row named leaves them (by email)."""
        if self.mode != "sync":
            return []
        leaving = defaultdict(list)
        members = Membership.objects.filter(user_group__in=self.groups).values_list("user_id", "user_group_id")
        for user_id, group_id in members.iterator(chunk_size=5000):
            if user_id not in self.seen_users:
                leaving[user_id].append(group_id)
        emails_of = {}
        ids = list(leaving)
        for start in range(0, len(ids), CHUNK):
            emails_of.update(User.objects.filter(pk__in=ids[start : start + CHUNK]).values_list("pk", "email"))
        return [
            {"op": "remove", "key": emails_of[user_id], "id": str(user_id), "groupIds": _ids(leaving[user_id])}
            for user_id in sorted(leaving, key=lambda pk: emails_of[pk])
        ]


CHUNK = 2000


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


class MembershipsPlanner:
    """Memberships, a chunk of rows at a time, then the sync removals: the pairs of the
    property's groups no row named."""

    def __init__(self, prop, mode: str, principal):
        self.prop, self.mode = prop, mode
        self.groups = list(user_group_list(property_id=prop.pk))
        self.group_ids = {g.pk for g in self.groups}
        self.by_name: dict[str, list[UserGroup]] = defaultdict(list)
        for group in self.groups:
            self.by_name[group.display_name.casefold()].append(group)
        self.named: set = set()

    def rows(self, rows: list[Row], errors: list) -> list[dict]:
        ops = []
        by_ext, by_email = _people(self.prop, rows)
        people = {u.pk for u in by_ext.values()} | {u.pk for u in by_email.values()}
        current = {
            (u, g)
            for u, g in Membership.objects.filter(user_id__in=people).values_list("user_id", "user_group_id")
            if g in self.group_ids
        }
        for row in rows:
            v = row.values
            user = _person(errors, row, by_ext, by_email)
            found = self.by_name.get(v["group"].casefold(), [])
            if len(found) != 1:
                reason = f"matches {len(found)} groups" if found else "no such group in this property"
                _error(errors, row, "group", reason)
                continue
            if user is None:
                continue
            pair = (user.pk, found[0].pk)
            if pair in self.named:
                _error(errors, row, "group", "the same membership as an earlier row")
                continue
            self.named.add(pair)
            key = f"{user.email} in {found[0].display_name}"
            ids = {"userId": str(user.pk), "groupId": str(found[0].pk)}
            if pair in current:
                ops.append({"op": "unchanged", "row": row.number, "key": key, **ids})
            else:
                ops.append({"op": "create", "row": row.number, "key": key, "values": ids})
        return ops

    def removals(self) -> list[dict]:
        if self.mode != "sync":
            return []
        names = {g.pk: g.display_name for g in self.groups}
        members = Membership.objects.filter(user_group__in=self.groups).values_list("user_id", "user_group_id")
        leaving = [pair for pair in members.iterator(chunk_size=5000) if pair not in self.named]
        ids = list({u for u, _ in leaving})
        emails = {}
        for start in range(0, len(ids), CHUNK):
            emails.update(User.objects.filter(pk__in=ids[start : start + CHUNK]).values_list("pk", "email"))
        return [
            {
                "op": "remove",
                "key": f"{emails[user_id]} in {names[group_id]}",
                "userId": str(user_id),
                "groupId": str(group_id),
            }
            for user_id, group_id in sorted(leaving, key=lambda p: (emails[p[0]], names[p[1]]))
        ]
