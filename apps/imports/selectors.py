"""Reads for imports: runs a caller may see, and each kind's export rows (the columns of
parsers.KINDS, so an untouched export imports with zero changes)."""

from __future__ import annotations

import itertools
from collections import defaultdict
from collections.abc import Iterator
from zoneinfo import ZoneInfo

from django.contrib.contenttypes.models import ContentType
from django.db.models import Exists, OuterRef, QuerySet

from apps.access.models import Membership
from apps.access.selectors import grant_list, user_group_list
from apps.accounts.models import User
from apps.core.models import ExternalRef
from apps.imports.models import ImportOperation, ImportRun
from apps.imports.parsers import path_join, template
from apps.imports.plans import AreaIndex, external_source

CHUNK = 2000


def import_run_list(*, property_id) -> QuerySet[ImportRun]:
    """A property's runs, newest first (without the file's bytes)."""
    return ImportRun.objects.filter(property_id=property_id).defer("content").order_by("-created_at")


def import_operation_list(*, run: ImportRun, op: str | None = None) -> QuerySet[ImportOperation]:
    """A run's dry-run diff in plan order (`seq`), optionally one kind of operation only."""
    rows = ImportOperation.objects.filter(run=run)
    return rows.filter(op=op) if op else rows


def export_rows(*, prop, kind: str, ids=None) -> tuple[list[str], Iterator[list]]:
    """(header, rows) of `kind` for the property; `ids` narrows to those objects (admin's
    selected rows). Rows are produced lazily, a chunk of the database at a time."""
    return template(kind), {
        "users": _users,
        "groups": _groups,
        "memberships": _memberships,
        "areas": _areas,
        "grants": _grants,
    }[kind](prop, ids)


def _users(prop, ids) -> Iterator[list]:
    """The property's people (in one of its groups), by email, CHUNK at a time: each chunk's
    memberships and external ids are read with it, so memory stays flat however many."""
    groups = {g.pk: g for g in user_group_list(property_id=prop.pk)}
    areas = AreaIndex(prop)
    user_type = ContentType.objects.get_for_model(User)
    # EXISTS, not a join with DISTINCT: the database walks the email index from the last chunk
    # on, instead of sorting every member of the property again for each chunk (O(n²)).
    member = Membership.objects.filter(user=OuterRef("pk"), user_group__in=list(groups))
    people = User.objects.alive().filter(Exists(member)).order_by("email")
    if ids is not None:
        people = people.filter(pk__in=ids)
    last = ""
    while chunk := list(people.filter(email__gt=last)[:CHUNK]):
        last = chunk[-1].email
        member_of: dict = defaultdict(list)
        for user_id, group_id in Membership.objects.filter(user__in=chunk, user_group__in=list(groups)).values_list(
            "user_id", "user_group_id"
        ):
            member_of[user_id].append(groups[group_id])
        refs = dict(
            ExternalRef.objects.filter(
                content_type=user_type, source=external_source(prop), object_id__in=[u.pk for u in chunk]
            ).values_list("object_id", "external_id")
        )
        for user in chunk:
            mine = member_of[user.pk]
            units = sorted(path_join(areas.path(g.area_id)) for g in mine if g.area_id)
            yield [
                refs.get(user.pk, ""),
                user.email,
                user.display_name,
                user.first_name,
                user.last_name,
                user.phone_number,
                units[0] if units else "",
                "|".join(sorted(g.display_name for g in mine if not g.area_id)),
            ]


def _groups(prop, ids) -> Iterator[list]:
    groups = user_group_list(property_id=prop.pk).order_by("display_name")
    if ids is not None:
        groups = groups.filter(pk__in=ids)
    for group in groups.iterator(chunk_size=CHUNK):
        yield [group.display_name, group.group_type]


def _batched(rows, size: int = CHUNK) -> Iterator[list]:
    rows = iter(rows)
    while batch := list(itertools.islice(rows, size)):
        yield batch


def _refs(prop, user_ids) -> dict:
    """The people's externalIds at this property (for one chunk of rows)."""
    return dict(
        ExternalRef.objects.filter(
            content_type=ContentType.objects.get_for_model(User),
            source=external_source(prop),
            object_id__in=list(set(user_ids)),
        ).values_list("object_id", "external_id")
    )


def _memberships(prop, ids) -> Iterator[list]:
    rows = Membership.objects.filter(user_group__in=user_group_list(property_id=prop.pk), user__type_state="active")
    if ids is not None:
        rows = rows.filter(user_group_id__in=ids)
    rows = rows.order_by("user__email", "user_group__display_name").values_list(
        "user_id", "user__email", "user_group__display_name"
    )
    for chunk in _batched(rows.iterator(chunk_size=CHUNK)):
        refs = _refs(prop, (user_id for user_id, _, _ in chunk))
        for user_id, email, group in chunk:
            yield [refs.get(user_id, ""), email, group]


def _areas(prop, ids) -> Iterator[list]:
    index = AreaIndex(prop)
    types = dict(prop.areas.filter(pk__in=list(index.areas)).values_list("id", "area_type"))
    chosen = [pk for pk in index.areas if ids is None or pk in set(ids)]
    for pk in sorted(chosen, key=lambda pk: (len(index.path(pk)), index.path(pk))):
        area = index.areas[pk]
        yield [area.display_name, path_join(index.path(area.parent_id)) if area.parent_id else "", types[pk]]


def _grants(prop, ids) -> Iterator[list]:
    """Active grants, times in the property's zone with their offset (so they read back as the
    same instants); timeZone is left blank."""
    zone = ZoneInfo(prop.time_zone)
    index = AreaIndex(prop)
    grants = grant_list(property_id=prop.pk, active_only=True).select_related("user", "lock")
    if ids is not None:
        grants = grants.filter(pk__in=ids)
    for chunk in _batched(grants.order_by("user__email", "created_at").iterator(chunk_size=CHUNK)):
        refs = _refs(prop, (grant.user_id for grant in chunk))
        yield from (_grant_row(grant, refs, index, zone) for grant in chunk)


def _grant_row(grant, refs: dict, index, zone) -> list:
    return [
        refs.get(grant.user_id, ""),
        grant.user.email,
        grant.lock.display_name if grant.lock_id else "",
        path_join(index.path(grant.area_id)) if grant.area_id else "",
        grant.access_level,
        grant.valid_from.astimezone(zone).isoformat() if grant.valid_from else "",
        grant.valid_until.astimezone(zone).isoformat() if grant.valid_until else "",
        "",
    ]
