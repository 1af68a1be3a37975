"""Keeps derived access current: each lock's lines and their version, each person's access map.

Called by the event handlers (apps.access.handlers) after a write commits, and by
`manage.py rebuild_access`. Every refresh of a property runs under a row lock on the
property (a per-property mutex on PostgreSQL), so concurrent workers apply changes one
after the other and versions only ever rise by one per content change. Refreshing twice
changes nothing: versions move only when the computed content differs from the stored one.
"""

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field

from django.db import transaction
from django.db.models import Func, IntegerField, Q
from django.utils import timezone

from apps.access import compute, doors
from apps.access.line_writes import LineWrites
from apps.access.map_writes import MapWrites
from apps.access.models import (
    AccessBlock,
    AccessGrant,
    LockAccessEntry,
    LockAccessVersion,
    Membership,
    Schedule,
    UserAccessMap,
    UserGroup,
)
from apps.accounts.models import User
from apps.areas.models import Area
from apps.core.timestamps import format_timestamp as timestamp
from apps.properties.models import Property

USER_CHUNK = 1000
# Map entries held in memory before they are written: a chunk of 1,000 staff of a 10,000-lock
# property is 10 million entries (the 100k bench's peak, +1.4 GiB); residents' maps are small.
CHUNK_ENTRIES = 200_000


@dataclass
class RefreshResult:
    locks_changed: set = field(default_factory=set)  # access-lines version rose
    users_changed: set = field(default_factory=set)  # access-map version rose
    users_checked: int = 0


# --- loading -----------------------------------------------------------------------------


def _ts(value) -> str | None:
    return timestamp(value) if value else None


def schedule_content(schedule: Schedule) -> dict:
    """What a schedule means (its stored windows are already canonical): part of every digest
    that uses it, so editing a schedule raises the versions of what depends on it."""
    return {"windows": schedule.windows, "validFrom": _ts(schedule.valid_from), "validUntil": _ts(schedule.valid_until)}


def schedules_content(property_id) -> dict[str, dict]:
    return {str(s.pk): schedule_content(s) for s in Schedule.objects.alive().filter(property_id=property_id)}


def structure_load(property_id, *, now=None) -> compute.Structure:
    """One property's lock-side inputs, in a handful of queries."""
    now = now or timezone.now()
    area_rows = (
        Area.objects.alive()
        .filter(property_id=property_id)
        .values_list("id", "parent_id", "area_type", "access_list", "area_user_group__id")
    )
    areas = {
        str(pk): compute.AreaNode(
            id=str(pk),
            parent_id=str(parent) if parent else None,
            area_type=area_type,
            group_id=str(group) if group else None,
            access_list=tuple(access_list or ()),
        )
        for pk, parent, area_type, access_list, group in area_rows
    }
    group_types = {
        str(pk): group_type
        for pk, group_type in UserGroup.objects.alive().filter(property_id=property_id).values_list("id", "group_type")
    }
    locks = doors.installed(property_id)
    grants = tuple(
        compute.GrantRow(
            id=str(g.pk),
            user_id=str(g.user_id),
            lock_id=str(g.lock_id) if g.lock_id else None,
            area_id=str(g.area_id) if g.area_id else None,
            valid_from=_ts(g.valid_from),
            valid_until=_ts(g.valid_until),
        )
        for g in grants_counting(property_id=property_id, now=now).only(
            "id", "user_id", "lock_id", "area_id", "valid_from", "valid_until"
        )
    )
    blocked = frozenset(
        str(u) for u in AccessBlock.objects.filter(property_id=property_id).values_list("user_id", flat=True)
    )
    return compute.Structure(
        areas=areas,
        group_types=group_types,
        locks=locks,
        grants=grants,
        blocked=blocked,
        schedules=schedules_content(property_id),
    )


def grants_counting(*, property_id, now=None):
    """Grants that still give access: not revoked, not marked expired, not past validUntil,
    held by a live person."""
    now = now or timezone.now()
    return (
        AccessGrant.objects.alive()
        .filter(property_id=property_id, revoked_at__isnull=True, expired_at__isnull=True, user__is_active=True)
        .exclude(user__type_state="deleted")
        .filter(Q(valid_until__isnull=True) | Q(valid_until__gt=now))
    )


LINE_FIELDS = ("lock_id", "kind", "subject_id", "schedule_id", "valid_from", "valid_until", "source", "source_area_id")


def _line_from_values(kind, subject_id, schedule_id, valid_from, valid_until, source, area_id) -> compute.LockEntry:
    """A stored lock line (LINE_FIELDS after the lock id, read with values_list: no model
    instances for the tens of thousands of lines a structural change reads)."""
    return compute.LockEntry(
        kind=kind,
        subject_id=str(subject_id) if subject_id else "",
        schedule_id=str(schedule_id) if schedule_id else "",
        valid_from=timestamp(valid_from) if valid_from else "",
        valid_until=timestamp(valid_until) if valid_until else "",
        source=source,
        area_id=area_id or "",
    )


def _lock_property(property_id) -> bool:
    """Take the per-property mutex; False when the property is gone."""
    return Property.objects.select_for_update().filter(pk=property_id).exists()


# --- lock side ---------------------------------------------------------------------------


@dataclass
class _LockSide:
    """What a lock-side refresh leaves for the user side."""

    groups: set  # group ids named by a changed lock, before or after
    users: set  # user ids named so
    lines: dict  # lock id -> its lines, every installed lock of the property
    schedules: dict


def _locks_refresh(property_id, result: RefreshResult) -> _LockSide:
    """Recompute every lock line of the property; write only locks whose lines changed."""
    structure = structure_load(property_id)
    new = compute.all_lock_lines(structure)
    stored: dict[str, set] = defaultdict(set)
    for lock_id, *values in LockAccessEntry.objects.filter(property_id=property_id).values_list(*LINE_FIELDS):
        stored[str(lock_id)].add(_line_from_values(*values))
    versions = {str(v.lock_id): v for v in LockAccessVersion.objects.filter(property_id=property_id)}
    groups, users = set(), set()
    writes = LineWrites(property_id)
    for lock_id in set(new) | set(stored) | set(versions):
        lines, before = set(new.get(lock_id, ())), stored.get(lock_id, set())
        content_digest = compute.digest(compute.lock_content(lines, structure.schedules))
        lines_version = versions.get(lock_id) or LockAccessVersion(lock_id=lock_id, property_id=property_id)
        if lines == before and lines_version.digest == content_digest:
            continue
        if lines != before:
            writes.replace(lock_id, sorted(lines), had_lines=bool(before))
        # who may be affected: the people and groups of the lines that came or went, when the
        # lines kept read as they did (the stored digest is that of `before` under today's
        # schedules); else (a schedule edited: content moves without lines moving) everyone the
        # lock names before or after. Staff named by every lock stay out of an access-list edit
        # that does not touch their line (400 maps of ~1,000 entries on the 10k campus).
        kept_same = before and compute.digest(compute.lock_content(before, structure.schedules)) == lines_version.digest
        for line in (lines ^ before) if kept_same else (lines | before):
            if line.kind == compute.GROUP:
                groups.add(line.subject_id)
            elif line.kind in (compute.USER, compute.DENY):
                users.add(line.subject_id)
        if lines_version.digest != content_digest:
            lines_version.version += 1
            result.locks_changed.add(lock_id)
        lines_version.digest, lines_version.entry_count = content_digest, len(lines)
        writes.version(lines_version)
    writes.flush()
    return _LockSide(groups, users, new, structure.schedules)


def _members(group_ids: Iterable[str]) -> set[str]:
    return {
        str(u) for u in Membership.objects.filter(user_group_id__in=list(group_ids)).values_list("user_id", flat=True)
    }


# --- user side ---------------------------------------------------------------------------


def _lines_by_subject(lines: dict[str, tuple]) -> dict[str, list]:
    """(lock id, line) pairs by the group or person a line names, from computed lock lines."""
    by_subject: dict[str, list] = defaultdict(list)
    for lock_id, lock_lines in lines.items():
        for line in lock_lines:
            if line.kind in (compute.GROUP, compute.USER):
                by_subject[line.subject_id].append((lock_id, line))
    return by_subject


def _stored_lines_by_subject(property_id, subjects: Iterable[str]) -> dict[str, list]:
    """The same, read from the stored lines that name `subjects`."""
    by_subject: dict[str, list] = defaultdict(list)
    for lock_id, *values in LockAccessEntry.objects.filter(
        property_id=property_id, subject_id__in=list(subjects), kind__in=(compute.GROUP, compute.USER)
    ).values_list(*LINE_FIELDS):
        line = _line_from_values(*values)
        by_subject[line.subject_id].append((str(lock_id), line))
    return by_subject


def _users_refresh(property_id, user_ids: Iterable[str], result: RefreshResult, *, lock_side=None) -> None:
    """Recompute these people's maps; write those whose content changed. `lock_side`: what a
    lock-side refresh just computed (else the stored lines are read, those naming each chunk)."""
    user_ids = sorted({str(u) for u in user_ids if u})
    schedules = lock_side.schedules if lock_side else schedules_content(property_id)
    by_subject = _lines_by_subject(lock_side.lines) if lock_side else None
    writes = MapWrites(property_id)
    for start in range(0, len(user_ids), USER_CHUNK):
        chunk = user_ids[start : start + USER_CHUNK]
        live = {
            str(u)
            for u in User.objects.filter(pk__in=chunk, is_active=True)
            .exclude(type_state="deleted")
            .values_list("id", flat=True)
        }
        groups_of: dict[str, set] = defaultdict(set)
        windows_of: dict[str, dict] = defaultdict(dict)  # user -> group -> membership window
        # The group's property and state are checked here rather than in the WHERE clause: there,
        # SQLite's planner walks every group of the property for each chunk (O(groups); 0.45 s a
        # chunk at 2,500 groups, docs/PERFORMANCE.md); this way it reads the people's own
        # memberships by the (user, group) index, whatever the size of the property.
        for user_id, group_id, group_property_id, group_state, valid_from, valid_until in (
            Membership.objects.filter(user_id__in=chunk)
            .order_by()
            .values_list(
                "user_id",
                "user_group_id",
                "user_group__property_id",
                "user_group__type_state",
                "valid_from",
                "valid_until",
            )
        ):
            if str(group_property_id) == str(property_id) and group_state == "active":
                groups_of[str(user_id)].add(str(group_id))
                if valid_from or valid_until:
                    windows_of[str(user_id)][str(group_id)] = (_ts(valid_from) or "", _ts(valid_until) or "")
        blocked = {
            str(u)
            for u in AccessBlock.objects.filter(property_id=property_id, user_id__in=chunk).values_list(
                "user_id", flat=True
            )
        }
        if by_subject is None:
            subjects = set(chunk).union(*groups_of.values())
            side = compute.UserSide(_stored_lines_by_subject(property_id, subjects), schedules)
        else:  # one side per chunk all the same: what it keeps is bounded by the chunk
            side = compute.UserSide(by_subject, schedules)
        # the stored entries are not read back (a staff member's are ~1,000): their count suffices
        stored = {
            str(user_id): (version, digest, count)
            for user_id, version, digest, count in UserAccessMap.objects.filter(
                property_id=property_id, user_id__in=chunk
            ).values_list("user_id", "version", "digest", _JSONArrayLength("entries"))
        }
        held = 0
        for user_id in chunk:
            if held >= CHUNK_ENTRIES:  # a chunk of staff: write what is held before computing more
                writes.flush()
                held = 0
            entries = ()
            if user_id in live:
                entries = side.entries(
                    user_id=user_id,
                    group_ids=groups_of.get(user_id, ()),
                    blocked=user_id in blocked,
                    group_windows=windows_of.get(user_id),
                )
            content_digest = side.digest(entries)
            version, digest, count = stored.pop(user_id, (0, "", None))
            if count is None and not entries:
                continue  # no access, never had any: nothing to store
            if digest == content_digest and count == len(entries):
                continue
            if digest != content_digest:
                version += 1
                result.users_changed.add(user_id)
            writes.add(user_id, entries_json=side.entries_json(entries), version=version, digest=content_digest)
            held += len(entries)
        result.users_checked += len(chunk)
        writes.flush()


class _JSONArrayLength(Func):
    """The length of a JSON array column, in the database."""

    function = "JSON_ARRAY_LENGTH"
    output_field = IntegerField()

    def as_postgresql(self, compiler, connection, **extra):
        return super().as_sql(compiler, connection, function="JSONB_ARRAY_LENGTH", **extra)


# --- entry points ------------------------------------------------------------------------


@transaction.atomic
def users_refresh(*, property_id, user_ids: Iterable[str]) -> RefreshResult:
    """After a membership change: only these people's maps."""
    result = RefreshResult()
    if _lock_property(property_id):
        _users_refresh(property_id, user_ids, result)
    return result


@transaction.atomic
def property_refresh(*, property_id, user_ids: Iterable[str] = ()) -> RefreshResult:
    """After a structural change (access list, move, schedule, grant, block, lock install):
    every lock of the property, then the people those changed locks name (and `user_ids`)."""
    result = RefreshResult()
    if not _lock_property(property_id):
        property_clear(property_id=property_id)
        return result
    lock_side = _locks_refresh(property_id, result)
    people = _members(lock_side.groups) | lock_side.users | {str(u) for u in user_ids}
    _users_refresh(property_id, people, result, lock_side=lock_side)
    return result


@transaction.atomic
def property_rebuild(*, property_id) -> RefreshResult:
    """From scratch: every lock and every person with any tie to the property."""
    result = RefreshResult()
    if not _lock_property(property_id):
        property_clear(property_id=property_id)
        return result
    lock_side = _locks_refresh(property_id, result)
    people = (
        _members(UserGroup.objects.filter(property_id=property_id).values_list("id", flat=True))
        | {str(u) for u in AccessGrant.objects.filter(property_id=property_id).values_list("user_id", flat=True)}
        | {str(u) for u in UserAccessMap.objects.filter(property_id=property_id).values_list("user_id", flat=True)}
    )
    _users_refresh(property_id, people, result, lock_side=lock_side)
    return result


def property_clear(*, property_id) -> None:
    LockAccessEntry.objects.filter(property_id=property_id).delete()
    LockAccessVersion.objects.filter(property_id=property_id).delete()
    UserAccessMap.objects.filter(property_id=property_id).delete()
