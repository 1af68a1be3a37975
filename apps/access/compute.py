"""Effective access of one property, computed from a snapshot. Pure: no ORM, no I/O.

The rules (docs/ACCESS.md has worked examples):

- An access-list entry on area X, and X's own area group (implicitly), grant X itself.
- They also reach a sub-area D of X (any depth) when D is a `common` area, or when the
  subject is a staff group. So a building's Residents entry opens the lobby and the gym,
  never another resident's unit; a Staff entry opens everything below.
- `group` entries name a user group, `area` entries the area group of another area,
  `schedule` entries make the area's locks open to anyone during the schedule (free
  passage). Any entry may carry `scheduleId`, restricting it to that schedule's windows.
- A grant gives one person a lock, or an area (then like a non-staff entry: the area and its
  common sub-areas), between validFrom and validUntil.
- A blocked person gets nothing at the property, and every lock of it carries a `deny`
  line for them (so a lock refuses old credentials after its next sync).

A lock's content is the set of its lines without their `source`; a user's content the set of
(lock, schedule, validity). Versions rise only when that content changes.
"""

import hashlib
import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime

GROUP, USER, OPEN, DENY = "group", "user", "open", "deny"
STAFF = "staff"
COMMON = "common"


@dataclass(frozen=True)
class AreaNode:
    id: str
    parent_id: str | None
    area_type: str
    group_id: str | None  # the area's own area group
    access_list: tuple = ()  # cleaned AccessListEntry dicts


@dataclass(frozen=True)
class GrantRow:
    id: str
    user_id: str
    lock_id: str | None
    area_id: str | None
    valid_from: str | None = None  # canonical timestamps (or None)
    valid_until: str | None = None


@dataclass(frozen=True)
class Structure:
    """What lock-side access depends on. Ids are strings."""

    areas: Mapping[str, AreaNode]
    group_types: Mapping[str, str]  # group id -> groupType
    locks: Mapping[str, str]  # installed lock id -> area id
    grants: tuple[GrantRow, ...] = ()
    blocked: frozenset = frozenset()
    schedules: Mapping[str, dict] = field(default_factory=dict)  # id -> canonical content


@dataclass(frozen=True, order=True)
class LockEntry:
    kind: str  # group | user | open | deny
    subject_id: str  # group id, user id; "" for open
    schedule_id: str  # "" = always
    valid_from: str  # "" = unbounded
    valid_until: str
    source: str  # accessList:<areaId>:<index> | areaGroup:<areaId> | grant:<id> | block:<userId>
    area_id: str = ""  # where the line was written (for explain), "" for deny


@dataclass(frozen=True, order=True)
class UserEntry:
    lock_id: str
    schedule_id: str
    valid_from: str
    valid_until: str
    source: str  # group:<groupId>|<lock line source>  or  grant:<id>


# --- lock side ---------------------------------------------------------------------------


def _own_lines(structure: Structure, area: AreaNode) -> list[tuple[LockEntry, bool]]:
    """(line, reaches-every-sub-area) for what is written on `area` itself."""
    lines = []
    if area.group_id:
        staff = structure.group_types.get(area.group_id) == STAFF
        lines.append((LockEntry(GROUP, area.group_id, "", "", "", f"areaGroup:{area.id}", area.id), staff))
    for index, entry in enumerate(area.access_list):
        schedule = entry.get("scheduleId") or ""
        source = f"accessList:{area.id}:{index}"
        kind = entry.get("accessType")
        if kind == "group":
            subject = entry["userGroupId"]
        elif kind == "area":
            target = structure.areas.get(entry["areaId"])
            subject = target.group_id if target else None
        elif kind == "schedule":
            lines.append((LockEntry(OPEN, "", schedule, "", "", source, area.id), False))
            continue
        else:
            continue
        if subject:
            staff = structure.group_types.get(subject) == STAFF
            lines.append((LockEntry(GROUP, subject, schedule, "", "", source, area.id), staff))
    for grant in structure.grants:
        if grant.area_id == area.id:
            valid = (grant.valid_from or "", grant.valid_until or "")
            lines.append((LockEntry(USER, grant.user_id, "", *valid, f"grant:{grant.id}", area.id), False))
    return lines


class LockSide:
    """Lock lines of a whole property, computed area by area (each area once)."""

    def __init__(self, structure: Structure):
        self.structure = structure
        self._area_lines: dict[str, tuple[LockEntry, ...]] = {}
        self._inherited: dict[str, tuple[tuple[LockEntry, bool], ...]] = {}

    def _passed_down(self, area_id: str | None) -> tuple[tuple[LockEntry, bool], ...]:
        """Lines written on `area_id` and its ancestors, as its children inherit them."""
        if area_id is None:
            return ()
        if area_id not in self._inherited:
            area = self.structure.areas[area_id]
            self._inherited[area_id] = self._passed_down(area.parent_id) + tuple(_own_lines(self.structure, area))
        return self._inherited[area_id]

    def area_lines(self, area_id: str) -> tuple[LockEntry, ...]:
        if area_id not in self._area_lines:
            area = self.structure.areas[area_id]
            lines = [line for line, _ in _own_lines(self.structure, area)]
            lines += [
                line
                for line, reaches_all in self._passed_down(area.parent_id)
                if reaches_all or area.area_type == COMMON
            ]
            self._area_lines[area_id] = tuple(lines)
        return self._area_lines[area_id]

    def lock_lines(self, lock_id: str) -> tuple[LockEntry, ...]:
        structure = self.structure
        area_id = structure.locks[lock_id]
        lines = set(self.area_lines(area_id)) if area_id in structure.areas else set()
        for grant in structure.grants:
            if grant.lock_id == lock_id:
                valid = (grant.valid_from or "", grant.valid_until or "")
                lines.add(LockEntry(USER, grant.user_id, "", *valid, f"grant:{grant.id}"))
        for user_id in structure.blocked:
            lines.add(LockEntry(DENY, user_id, "", "", "", f"block:{user_id}"))
        return tuple(sorted(lines))


def lock_lines(structure: Structure, lock_id: str) -> tuple[LockEntry, ...]:
    return LockSide(structure).lock_lines(lock_id)


def all_lock_lines(structure: Structure) -> dict[str, tuple[LockEntry, ...]]:
    side = LockSide(structure)
    return {lock_id: side.lock_lines(lock_id) for lock_id in structure.locks}


def lock_content(lines: Iterable[LockEntry], schedules: Mapping[str, dict]) -> list:
    """What a lock enforces: lines without their source, with each schedule's content."""
    return sorted(
        {
            (line.kind, line.subject_id, _schedule_key(line.schedule_id, schedules), line.valid_from, line.valid_until)
            for line in lines
        }
    )


# --- user side ---------------------------------------------------------------------------


def _instant(value: str) -> datetime:
    return datetime.fromisoformat(value.replace("Z", "+00:00"))


def window_narrow(line_from: str, line_until: str, window: tuple[str, str] | None) -> tuple[str, str]:
    """A line's validity narrowed by a membership window (canonical timestamps, "" =
    unbounded): the later start and the earlier end (possibly an empty span)."""
    valid_from, valid_until = line_from, line_until
    if not window:
        return valid_from, valid_until
    if window[0] and (not valid_from or _instant(window[0]) > _instant(valid_from)):
        valid_from = window[0]
    if window[1] and (not valid_until or _instant(window[1]) < _instant(valid_until)):
        valid_until = window[1]
    return valid_from, valid_until


def window_intersect(line_from: str, line_until: str, window: tuple[str, str] | None) -> tuple[str, str] | None:
    """`window_narrow`, None when nothing is left."""
    valid_from, valid_until = window_narrow(line_from, line_until, window)
    if valid_from and valid_until and _instant(valid_from) >= _instant(valid_until):
        return None
    return valid_from, valid_until


class UserSide:
    """People's entries over one property's lock lines, with what they share made once.

    `lines_by_subject` maps a group or user id to (lock id, line) pairs. A group gives each of
    its members the same entries (narrowed by the member's window, if any), so they are made
    once per (group, window); so are each entry's JSON and its part of the digest. A structural
    change rewrites every resident's map (9,590 on the 10k campus), and residents share most of
    their entries.
    """

    def __init__(self, lines_by_subject: Mapping[str, Iterable[tuple[str, LockEntry]]], schedules: Mapping[str, dict]):
        self.lines_by_subject = lines_by_subject
        self.schedules = schedules
        self._from_group: dict[tuple, frozenset] = {}
        self._json: dict[UserEntry, str] = {}
        self._content: dict[UserEntry, tuple] = {}
        self._content_json: dict[tuple, str] = {}

    def _group_entries(self, group_id: str, window: tuple[str, str] | None) -> frozenset:
        key = (group_id, window)
        if key not in self._from_group:
            out = set()
            for lock_id, line in self.lines_by_subject.get(group_id, ()):
                if line.kind == GROUP:
                    valid = window_intersect(line.valid_from, line.valid_until, window)
                    if valid is not None:
                        out.add(UserEntry(lock_id, line.schedule_id, *valid, f"group:{group_id}|{line.source}"))
            self._from_group[key] = frozenset(out)
        return self._from_group[key]

    def entries(
        self,
        *,
        user_id: str,
        group_ids: Iterable[str],
        blocked: bool,
        group_windows: Mapping[str, tuple[str, str]] | None = None,
    ) -> tuple[UserEntry, ...]:
        """A person's effective access: the locks whose lines name them or one of their groups.
        A blocked person has none. `group_windows` (group id -> (validFrom, validUntil) of the
        person's membership) narrows what each group gives them; a group without one gives its
        lines' own validity."""
        if blocked:
            return ()
        group_windows = group_windows or {}
        out: set[UserEntry] = set()
        for group_id in group_ids:
            out |= self._group_entries(group_id, group_windows.get(group_id))
        for lock_id, line in self.lines_by_subject.get(user_id, ()):
            if line.kind == USER:
                out.add(UserEntry(lock_id, line.schedule_id, line.valid_from, line.valid_until, line.source))
        return tuple(sorted(out))

    def digest(self, entries: Iterable[UserEntry]) -> str:
        """`digest(user_content(entries, schedules))`, from each entry's part made once."""
        keys = set()
        for entry in entries:
            key = self._content.get(entry)
            if key is None:
                key = self._content[entry] = (
                    entry.lock_id,
                    _schedule_key(entry.schedule_id, self.schedules),
                    entry.valid_from,
                    entry.valid_until,
                )
                self._content_json.setdefault(key, json.dumps(key, separators=(",", ":")))
            keys.add(key)
        parts = ",".join(self._content_json[key] for key in sorted(keys))
        return hashlib.sha256(f"[{parts}]".encode()).hexdigest()

    def entries_json(self, entries: Iterable[UserEntry]) -> str:
        """The stored form of a person's entries: `json.dumps([entry_json(e) for e in entries])`."""
        parts = []
        for entry in entries:
            text = self._json.get(entry)
            if text is None:
                text = self._json[entry] = json.dumps(entry_json(entry))
            parts.append(text)
        return f"[{', '.join(parts)}]"


def entry_json(entry: UserEntry) -> dict:
    return {
        "lockId": entry.lock_id,
        "scheduleId": entry.schedule_id or None,
        "validFrom": entry.valid_from or None,
        "validUntil": entry.valid_until or None,
        "source": entry.source,
    }


def user_lines(
    *,
    user_id: str,
    group_ids: Iterable[str],
    lines_by_subject: Mapping[str, Iterable[tuple[str, LockEntry]]],
    blocked: bool,
    group_windows: Mapping[str, tuple[str, str]] | None = None,
) -> tuple[UserEntry, ...]:
    """One person's entries (`UserSide.entries`), for a caller with one person."""
    return UserSide(lines_by_subject, {}).entries(
        user_id=user_id, group_ids=group_ids, blocked=blocked, group_windows=group_windows
    )


def user_content(entries: Iterable[UserEntry], schedules: Mapping[str, dict]) -> list:
    return sorted({(e.lock_id, _schedule_key(e.schedule_id, schedules), e.valid_from, e.valid_until) for e in entries})


# --- digests -----------------------------------------------------------------------------


def _schedule_key(schedule_id: str, schedules: Mapping[str, dict]) -> str:
    if not schedule_id:
        return ""
    return json.dumps([schedule_id, schedules.get(schedule_id)], sort_keys=True, separators=(",", ":"))


def digest(content: list) -> str:
    return hashlib.sha256(json.dumps(content, separators=(",", ":")).encode()).hexdigest()
