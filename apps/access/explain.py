"""Explain and what-if: the same rules as apps.access.compute, answered for people.

`explain` says whether one person may open one lock at one instant and through which
paths (group → access-list entry → area → inherited by the lock's area, grant, schedule
window matched or missed, block). `what_if` compares two structures and says who gains and
who loses which locks. Both are pure; apps.access.selectors loads their inputs.
"""

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from apps.access import compute
from apps.access import schedules as sched


@dataclass
class Names:
    """Display names for ids (anything missing shows its id)."""

    areas: Mapping[str, str] = field(default_factory=dict)
    groups: Mapping[str, str] = field(default_factory=dict)
    schedules: Mapping[str, str] = field(default_factory=dict)
    locks: Mapping[str, str] = field(default_factory=dict)

    def area(self, area_id: str) -> str:
        return self.areas.get(area_id, area_id)

    def group(self, group_id: str) -> str:
        return self.groups.get(group_id, group_id)


def _parse(value: str) -> datetime | None:
    return datetime.fromisoformat(value.replace("Z", "+00:00")) if value else None


def _schedule(content: dict | None) -> sched.Schedule | None:
    if content is None:
        return None
    return sched.Schedule(
        windows=sched.windows_from_json(content["windows"]),
        valid_from=_parse(content.get("validFrom") or ""),
        valid_until=_parse(content.get("validUntil") or ""),
    )


def _time_check(line: compute.LockEntry, structure: compute.Structure, at: datetime, tz: ZoneInfo, names: Names):
    """(holds at `at`, human steps) for a line's schedule and validity."""
    steps, holds = [], True
    if line.valid_from and at < _parse(line.valid_from):
        holds = False
        steps.append(f"not valid before {line.valid_from}")
    if line.valid_until and at >= _parse(line.valid_until):
        holds = False
        steps.append(f"expired at {line.valid_until}")
    if line.schedule_id:
        schedule = _schedule(structure.schedules.get(line.schedule_id))
        label = names.schedules.get(line.schedule_id, line.schedule_id)
        window = sched.is_open(schedule, at, tz) if schedule else None
        if window is not None:
            steps.append(f"schedule '{label}': window {sched.describe(window)} matched")
        else:
            holds = False
            windows = ", ".join(sched.describe(w) for w in schedule.windows) if schedule else "deleted"
            steps.append(f"schedule '{label}': outside its windows ({windows})")
    return holds, steps


def _reach(line: compute.LockEntry, lock_area_id: str, structure: compute.Structure, names: Names) -> str:
    """How a line written on an area reaches the lock's area."""
    if line.area_id == lock_area_id:
        return f"the lock is in area '{names.area(lock_area_id)}'"
    lock_area = structure.areas.get(lock_area_id)
    why = "a common area" if lock_area and lock_area.area_type == compute.COMMON else "reached by staff groups"
    return f"inherited by sub-area '{names.area(lock_area_id)}', where the lock is ({why})"


def explain(
    *,
    structure: compute.Structure,
    user_id: str,
    group_ids: Iterable[str],
    lock_id: str,
    at: datetime,
    tz: ZoneInfo,
    names: Names | None = None,
    lines: tuple[compute.LockEntry, ...] | None = None,
    group_windows: Mapping[str, tuple[str, str]] | None = None,
) -> dict:
    """`lines`: the lock's lines when the caller already computed them (one lock, many people).
    `group_windows`: the person's membership windows (group id -> (validFrom, validUntil))."""
    names = names or Names()
    group_windows = group_windows or {}
    group_ids = set(group_ids)
    lock_area_id = structure.locks.get(lock_id)
    result = {"allowed": False, "blocked": user_id in structure.blocked, "paths": [], "summary": ""}
    if lock_area_id is None:
        result["summary"] = "Denied: the lock is not installed in an area of this property."
        return result
    if lines is None:
        lines = compute.LockSide(structure).lock_lines(lock_id)
    for line in lines:
        if line.kind == compute.GROUP and line.subject_id in group_ids:
            steps = [f"member of group '{names.group(line.subject_id)}'"]
            if line.source.startswith("areaGroup:"):
                steps.append(f"the own group of area '{names.area(line.area_id)}'")
            else:
                steps.append(f"access list entry #{line.source.rsplit(':', 1)[1]} of area '{names.area(line.area_id)}'")
            steps.append(_reach(line, lock_area_id, structure, names))
            kind = "group"
            window = group_windows.get(line.subject_id)
            if window:
                steps.append(f"membership valid {window[0] or 'from always'} until {window[1] or 'no end'}")
                # an empty span (no overlap) fails `_time_check` at every instant
                valid_from, valid_until = compute.window_narrow(line.valid_from, line.valid_until, window)
                line = replace(line, valid_from=valid_from, valid_until=valid_until)
        elif line.kind == compute.USER and line.subject_id == user_id:
            if line.area_id:
                steps = [
                    f"personal grant on area '{names.area(line.area_id)}'",
                    _reach(line, lock_area_id, structure, names),
                ]
            else:
                steps = ["personal grant on this lock"]
            kind = "grant"
        elif line.kind == compute.OPEN:
            index = line.source.rsplit(":", 1)[1]
            steps = [f"free passage: access list entry #{index} of area '{names.area(line.area_id)}'"]
            steps.append(_reach(line, lock_area_id, structure, names))
            kind = "open"
        else:
            continue
        holds, time_steps = _time_check(line, structure, at, tz, names)
        result["paths"].append(
            {
                "kind": kind,
                "holds": holds,
                "source": line.source,
                "userGroupId": line.subject_id if kind == "group" else None,
                "areaId": line.area_id or None,
                "scheduleId": line.schedule_id or None,
                "steps": steps + time_steps,
            }
        )
    if result["blocked"]:
        result["summary"] = "Denied: the person is blocked at this property."
    elif any(p["holds"] for p in result["paths"]):
        result["allowed"] = True
        result["summary"] = f"Allowed through {sum(p['holds'] for p in result['paths'])} path(s)."
    elif result["paths"]:
        result["summary"] = "Denied: every path is outside its schedule or validity at that time."
    else:
        result["summary"] = "Denied: no access-list entry or grant names this person or their groups for this lock."
    return result


def first_allowed(
    *,
    structure: compute.Structure,
    user_id: str,
    group_ids: Iterable[str],
    lock_id: str,
    start: datetime,
    end: datetime,
    tz: ZoneInfo,
    names: Names | None = None,
    group_windows: Mapping[str, tuple[str, str]] | None = None,
) -> tuple[datetime, dict] | None:
    """The first instant in [start, end) the person may open the lock, with `explain` then.

    Access only begins at `start`, at a line's validFrom, at a schedule's validFrom or at a
    window's start (local wall time), so those instants are the only ones to try."""
    lines = compute.LockSide(structure).lock_lines(lock_id) if lock_id in structure.locks else ()
    candidates = {start} | {_parse(w[0]) for w in (group_windows or {}).values() if w[0]}
    for line in lines:
        if line.valid_from:
            candidates.add(_parse(line.valid_from))
        schedule = _schedule(structure.schedules.get(line.schedule_id)) if line.schedule_id else None
        if schedule is None:
            continue
        if schedule.valid_from is not None:
            candidates.add(schedule.valid_from)
        day = start.astimezone(tz).date()
        while day <= end.astimezone(tz).date():
            for window in schedule.windows:
                if day.weekday() in window.days:
                    # aware + timedelta is wall-clock arithmetic: the window's local start time
                    candidates.add(datetime(day.year, day.month, day.day, tzinfo=tz) + timedelta(seconds=window.start))
            day += timedelta(days=1)
    for at in sorted(c for c in candidates if start <= c < end):
        answer = explain(
            structure=structure,
            user_id=user_id,
            group_ids=group_ids,
            lock_id=lock_id,
            at=at,
            tz=tz,
            names=names,
            lines=lines,
            group_windows=group_windows,
        )
        if answer["allowed"]:
            return at, answer
    return None


# --- what-if -----------------------------------------------------------------------------


def user_lock_sets(
    structure: compute.Structure,
    groups_of: Mapping[str, set],
    user_ids: Iterable[str],
    windows_of: Mapping[str, Mapping[str, tuple[str, str]]] | None = None,
    now: datetime | None = None,
) -> dict[str, dict[str, tuple]]:
    """person -> lock -> content (schedule/validity tuples) under `structure`.

    `windows_of` (person -> group -> membership window) narrows what each group gives as in the
    access map; with `now`, what has already ended by then (a window or validity in the past)
    is no access at all, so it is neither a gain nor a loss."""
    windows_of = windows_of or {}
    by_subject: dict[str, list] = {}
    for lock_id, lines in compute.all_lock_lines(structure).items():
        for line in lines:
            by_subject.setdefault(line.subject_id, []).append((lock_id, line))
    out = {}
    for user_id in user_ids:
        entries = compute.user_lines(
            user_id=user_id,
            group_ids=groups_of.get(user_id, set()),
            lines_by_subject=by_subject,
            blocked=user_id in structure.blocked,
            group_windows=windows_of.get(user_id),
        )
        locks: dict[str, set] = {}
        for entry in entries:
            if now is not None and entry.valid_until and _parse(entry.valid_until) <= now:
                continue
            locks.setdefault(entry.lock_id, set()).add(
                (compute._schedule_key(entry.schedule_id, structure.schedules), entry.valid_from, entry.valid_until)
            )
        out[user_id] = {lock: tuple(sorted(content)) for lock, content in locks.items()}
    return out


def what_if(
    *,
    before: compute.Structure,
    after: compute.Structure,
    groups_before: Mapping[str, set],
    groups_after: Mapping[str, set],
    user_ids: Iterable[str],
    windows_before: Mapping[str, Mapping[str, tuple[str, str]]] | None = None,
    windows_after: Mapping[str, Mapping[str, tuple[str, str]]] | None = None,
    now: datetime | None = None,
) -> dict:
    """Who gains and who loses which locks (and whose windows change) between two states.

    Membership windows (`windows_before`/`windows_after`, person -> group -> window) count as
    in the access map; with `now`, access that has ended by then counts as none (docs/ACCESS.md
    "What-if")."""
    user_ids = sorted(set(user_ids))
    old = user_lock_sets(before, groups_before, user_ids, windows_before, now)
    new = user_lock_sets(after, groups_after, user_ids, windows_after, now)
    gains, losses, changed = [], [], []
    for user_id in user_ids:
        o, n = old.get(user_id, {}), new.get(user_id, {})
        gains += [{"userId": user_id, "lockId": lock} for lock in sorted(set(n) - set(o))]
        losses += [{"userId": user_id, "lockId": lock} for lock in sorted(set(o) - set(n))]
        changed += [{"userId": user_id, "lockId": lock} for lock in sorted(set(o) & set(n)) if o[lock] != n[lock]]
    return {"gains": gains, "losses": losses, "changed": changed, "usersConsidered": len(user_ids)}
