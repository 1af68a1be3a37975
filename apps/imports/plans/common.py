"""What every planner shares: field names, JSON values, the caller, area paths, row errors, the op shape."""

from __future__ import annotations

from collections import defaultdict
from datetime import datetime
from uuid import UUID

from django.contrib.contenttypes.models import ContentType

from apps.accounts.models import User
from apps.accounts.selectors import member_property_ids
from apps.areas.selectors import area_list
from apps.core.models import ExternalRef
from apps.core.principal import Grant, Principal
from apps.imports.parsers import Row, RowError, path_join

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


def _ids(ids) -> list[str]:
    return [str(i) for i in ids]


def _op(row: Row, key: str, pk, changes: dict) -> dict:
    op = {"op": "update" if changes else "unchanged", "row": row.number, "key": key, "id": str(pk)}
    if changes:
        op["changes"] = changes
    return op


def _people(prop, rows: list[Row]) -> tuple[dict, dict]:
    """Who the rows name: (by externalId, by email)."""
    user_type = ContentType.objects.get_for_model(User)
    ext_ids = [r.values["externalId"] for r in rows if r.values.get("externalId")]
    refs = dict(
        ExternalRef.objects.filter(
            content_type=user_type, source=external_source(prop), account_id__isnull=True, external_id__in=ext_ids
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
