"""Access-model benchmark (issue 5, "Performance"): derived access on a large property.

Run by tests/bench/run.py on the bench database, one fresh process per step, each printing
one JSON line (the last line of its stdout):

    python -m tests.bench.access seed      # two campuses, written in bulk
    python -m tests.bench.access rebuild   # derive.property_rebuild of each, from empty
    python -m tests.bench.access measure   # membership and access-list changes, timed

Two campuses of the same shape (`plan(scale)`), at scale 10 and scale 1. Per scale unit:

- 1,000 users: 960 residents (about 6 per unit) and 40 staff;
- 200 areas: a building (common; its front door) with 10 floors (common), each with a trash
  room (common) and its units (resident); inside it 6 common rooms (lobby, mailroom, laundry,
  gym, roof deck, package room) and 4 staff rooms; its garage and bike room (common, top
  level: separate structures, for their pass holders). The unit count fills the total to
  exactly 200 per scale unit;
- 100 locks: the front door, the 6 common rooms, garage, bike room, the 4 staff rooms, and
  about half the units;
- 50 user groups: per building its residents, parking, bike-room and cleaners (staff)
  groups, and clubs that no access list names.

Once per campus (so in both sizes alike, and counted in the totals above): a Clubhouse
(common, top level) with a fitness center, lounge, theater (common) and an office (staff),
and a Pool and a Dog run (common, top level): 7 areas, 7 locks. Every area has its own area
group (2,000 / 200 more groups).

Access lists: each building names its residents group and Staff; the Clubhouse names
Residents and Staff (the "building that names Residents" of the structural change); garage,
bike room, pool and dog run name their pass holders' group and Staff; the theater names the
Theater club (evenings), the janitor room the building's cleaners (night shift), each lobby
is free passage during its opening hours, and every 25th unit names a neighbour unit (an
`area` entry). Each resident is in their unit's group, Residents, their building's group
and 0–7 optional groups (parking, bike room, pool, theater, dogs, clubs); each staff member
in Staff, one building's cleaners and maybe a club. Per scale unit, 2 guest grants (a unit
door, ending in 30 days), 1 area grant (a lobby) and 1 blocked resident (every lock carries
a deny line for each blocked person). Staff reach every lock (staff entries reach every
sub-area), so a staff member's map has about 1,000 entries on the big campus; a resident's
has about 15 on either.

`seed` writes all of it with `bulk_create` (bench-only: no events, and no per-row service
checks; the shape is checked by counting afterwards), except the property, its two groups and
the schedules, which go through their services. `rebuild` then derives everything with one
`derive.property_rebuild` per campus, in a fresh process, so the growth of its peak resident
set size (`resource.getrusage(RUSAGE_SELF).ru_maxrss` after minus before) is the rebuild's
peak memory. `measure` times changes the way a worker applies them: the service call, then
`apps.events.services.event_process` of its event (the on-commit Celery enqueue is replaced
by that direct call), and checks after each that the affected derived rows are current.
"""

import contextlib
import json
import os
import random
import resource
import statistics
import sys
import time
from collections import Counter
from dataclasses import dataclass, field
from datetime import timedelta

BIG, SMALL = 10, 1
CAMPUS_NAMES = {BIG: "Bench Campus 10k", SMALL: "Bench Campus 1k"}
FLOORS = 10
BUILDING_COMMONS = ("Lobby", "Mailroom", "Laundry", "Gym", "Roof deck", "Package room")  # inside the building
BUILDING_OPT_IN = ("Garage", "Bike room")  # the building's, but separate structures (top level)
STAFF_ROOMS = ("Mechanical room", "Electrical room", "Janitor room", "Management office")
CLUBHOUSE_ROOMS = (("Fitness center", "common"), ("Lounge", "common"), ("Theater", "common"), ("Office", "staff"))
EVERY_DAY = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"]
SCHEDULES = {
    "pool": ("Pool hours", [{"days": EVERY_DAY, "start": "08:00", "stop": "21:00"}]),
    "theater": ("Theater evenings", [{"days": ["fri", "sat"], "start": "18:00", "stop": "01:00"}]),
    "lobby": ("Lobby open", [{"days": ["mon", "tue", "wed", "thu", "fri"], "start": "07:00", "stop": "19:00"}]),
    "cleaning": ("Cleaning shift", [{"days": ["mon", "tue", "wed", "thu", "fri"], "start": "22:00", "stop": "06:00"}]),
    "clubhouse": ("Clubhouse hours", [{"days": EVERY_DAY, "start": "06:00", "stop": "23:00"}]),
}
RESIDENTS_PER_SCALE, STAFF_PER_SCALE = 960, 40
AREAS_PER_SCALE, LOCKS_PER_SCALE, GROUPS_PER_SCALE = 200, 100, 50
BATCH = 2000
CHANGE_RUNS = max(3, int(os.environ.get("BENCH_ACCESS_RUNS", "15")))  # membership changes timed per size
STRUCTURAL_RUNS = 3
SEED = 20261124


# --- the plan (pure) ---------------------------------------------------------------------------------


@dataclass
class AreaSpec:
    """One area; `access` entries are ("group", group key, schedule key | None), ("area", area
    key) or ("schedule", schedule key)."""

    key: str
    name: str
    area_type: str
    parent: str | None
    access: list = field(default_factory=list)
    lock: bool = False
    building: int | None = None


@dataclass
class Plan:
    scale: int
    areas: list[AreaSpec]
    groups: list[tuple[str, str, str]]  # (key, display name, group type) of the custom groups
    units: list[str]  # unit keys, in building order

    def counts(self) -> dict:
        return {
            "areas": len(self.areas),
            "locks": sum(a.lock for a in self.areas),
            "groups": len(self.groups) + 2,  # + Residents and Staff
            "units": len(self.units),
        }


def _spread(total: int, parts: int) -> list[int]:
    base, extra = divmod(total, parts)
    return [base + (1 if i < extra else 0) for i in range(parts)]


def plan(scale: int) -> Plan:
    """Areas and groups of one campus of `scale` buildings (no database)."""
    staff = ("group", "Staff", None)
    campus = [
        AreaSpec("club", "Clubhouse", "common", None, [("group", "Residents", None), staff], True),
        *(
            AreaSpec(
                f"club/{name}", name, area_type, "club", [("group", "theater", "theater")] * (name == "Theater"), True
            )
            for name, area_type in CLUBHOUSE_ROOMS
        ),
        AreaSpec("pool", "Pool", "common", None, [("group", "pool", "pool"), staff], True),
        AreaSpec("dogs", "Dog run", "common", None, [("group", "dogs", None), staff], True),
    ]
    per_building = 1 + FLOORS * 2 + len(BUILDING_COMMONS) + len(BUILDING_OPT_IN) + len(STAFF_ROOMS)
    locks_per_building = 1 + len(BUILDING_COMMONS) + len(BUILDING_OPT_IN) + len(STAFF_ROOMS)
    unit_total = AREAS_PER_SCALE * scale - per_building * scale - len(campus)
    unit_locks = LOCKS_PER_SCALE * scale - locks_per_building * scale - len(campus)
    locked_units = {round(k * unit_total / unit_locks) for k in range(unit_locks)}
    groups = [
        ("pool", "Pool pass", "resident"),
        ("theater", "Theater club", "resident"),
        ("dogs", "Dog owners", "resident"),
    ]
    areas = list(campus)
    units: list[str] = []
    for b, building_units in enumerate(_spread(unit_total, scale)):
        letter = f"B{b + 1:02d}"
        for key, name, group_type in (
            ("residents", "residents", "resident"),
            ("parking", "parking permits", "resident"),
            ("bikes", "bike room", "resident"),
            ("cleaners", "cleaners", "staff"),
        ):
            groups.append((f"{key}/{b}", f"{letter} {name}", group_type))
        bkey = f"b{b}"
        areas.append(
            AreaSpec(bkey, f"Building {letter}", "common", None, [("group", f"residents/{b}", None), staff], True, b)
        )
        for name in BUILDING_COMMONS:
            access = [("schedule", "lobby")] if name == "Lobby" else []
            areas.append(AreaSpec(f"{bkey}/{name}", f"{letter} {name}", "common", bkey, access, True, b))
        for name, key in zip(BUILDING_OPT_IN, ("parking", "bikes"), strict=True):
            access = [("group", f"{key}/{b}", None), staff]
            areas.append(AreaSpec(f"{bkey}/{name}", f"{letter} {name}", "common", None, access, True, b))
        for name in STAFF_ROOMS:
            access = [("group", f"cleaners/{b}", "cleaning")] if name == "Janitor room" else []
            areas.append(AreaSpec(f"{bkey}/{name}", f"{letter} {name}", "staff", bkey, access, True, b))
        for f, floor_units in enumerate(_spread(building_units, FLOORS), start=1):
            fkey = f"{bkey}/f{f}"
            areas.append(AreaSpec(fkey, f"{letter} floor {f}", "common", bkey, building=b))
            areas.append(AreaSpec(f"{fkey}/trash", f"{letter} floor {f} trash room", "common", fkey, building=b))
            for u in range(1, floor_units + 1):
                ukey = f"{fkey}/u{u}"
                locked = len(units) in locked_units
                areas.append(AreaSpec(ukey, f"Unit {letter}-{f:02d}{u:02d}", "resident", fkey, lock=locked, building=b))
                units.append(ukey)
    by_key = {a.key: a for a in areas}
    for k, unit in enumerate(units):  # every 25th unit lets a neighbour's household in (carer, dog sitter)
        if k % 25 == 24:
            by_key[unit].access.append(("area", units[k - 1]))
    clubs = GROUPS_PER_SCALE * scale - 2 - len(groups)
    groups += [(f"club{c}", f"Club {c + 1}", "resident") for c in range(clubs)]
    result = Plan(scale, areas, groups, units)
    counts = result.counts()
    expected = {"areas": AREAS_PER_SCALE * scale, "locks": LOCKS_PER_SCALE * scale, "groups": GROUPS_PER_SCALE * scale}
    assert {k: counts[k] for k in expected} == expected, (counts, expected)
    return result


# --- seeding -----------------------------------------------------------------------------------------


def _setup() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "tests.bench.settings")
    import django

    django.setup()


def _events_to_list() -> list:
    """Replace the on-commit Celery enqueue with a list: the bench processes events itself.

    Key-map builds are held back too: the lock side's handlers ask for one after most of these
    events, and with eager Celery it would run inside the timed change. It is a separate worker
    task over every lock of the property, measured by the protocol part (tests/bench/protocol.py).
    """
    from apps.events import services as event_services

    appended: list = []
    event_services._enqueue = appended.append
    hold_key_map_builds()
    return appended


def hold_key_map_builds() -> None:
    """Leave key-map build requests open instead of building after each commit (the protocol
    part times builds itself; the requests stay recorded, as when no worker is running)."""
    from django.apps import apps as django_apps

    if django_apps.is_installed("apps.locks"):
        from apps.locks.services import key_maps

        key_maps._enqueue_build = lambda property_id: None


def _access_list(spec: AreaSpec, group_ids: dict, area_ids: dict, schedule_ids: dict) -> list[dict]:
    entries = []
    for entry in spec.access:
        if entry[0] == "group":
            item = {"accessType": "group", "userGroupId": group_ids[entry[1]]}
            if entry[2]:
                item["scheduleId"] = schedule_ids[entry[2]]
        elif entry[0] == "area":
            item = {"accessType": "area", "areaId": area_ids[entry[1]]}
        else:
            item = {"accessType": "schedule", "scheduleId": schedule_ids[entry[1]]}
        entries.append(item)
    return entries


def campus_seed(scale: int, *, wide_staff: int | None = None) -> dict:
    """One campus written in bulk (see the module docstring); returns its counts and timings.

    `wide_staff` (tests/bench/scale.py): only the first that many staff are in Staff (reach every
    lock); the others are building staff, in their building's residents group (its door, commons,
    floors) as well as its cleaners. None: every staff member is in Staff (the campus shape)."""
    from django.db import connection, transaction
    from django.utils import timezone

    from apps.access import services as access_services
    from apps.access.models import AccessBlock, AccessGrant, Membership, UserGroup, UserGroupGroupSource
    from apps.accounts.models import User
    from apps.areas.models import Area
    from apps.core.actors import SYSTEM
    from apps.locks.models import Lock

    started = time.perf_counter()
    rng = random.Random(SEED + scale)
    the_plan = plan(scale)
    now = timezone.now()
    slug = f"c{scale}"
    with transaction.atomic():
        prop = access_services.property_create(
            display_name=CAMPUS_NAMES[scale],
            address={
                "line1": "1 Bench Campus",
                "city": "Boston",
                "state": "MA",
                "country": "US",
                "postalCode": "02110",
            },
            time_zone="America/New_York",
            actor=SYSTEM,
        )
        own = {
            g.group_type: g for g in UserGroup.objects.filter(property=prop, group_source=UserGroupGroupSource.PROPERTY)
        }
        group_ids = {"Residents": str(own["resident"].pk), "Staff": str(own["staff"].pk)}
        schedule_ids = {
            key: str(access_services.schedule_create(prop=prop, display_name=name, windows=windows, actor=SYSTEM).pk)
            for key, (name, windows) in SCHEDULES.items()
        }
        custom = [
            UserGroup(
                property=prop,
                display_name=name,
                group_type=group_type,
                group_source=UserGroupGroupSource.CUSTOM,
                last_modified_by=SYSTEM,
            )
            for _, name, group_type in the_plan.groups
        ]
        group_ids.update({key: str(g.pk) for (key, _, _), g in zip(the_plan.groups, custom, strict=True)})
        UserGroup.objects.bulk_create(custom, batch_size=BATCH)

        areas: dict[str, Area] = {}
        for spec in the_plan.areas:
            parent = areas[spec.parent] if spec.parent else None
            areas[spec.key] = Area(
                property=prop,
                parent=parent,
                display_name=spec.name,
                area_type=spec.area_type,
                ancestor_ids=[str(parent.pk), *parent.ancestor_ids] if parent else [],
                depth=parent.depth + 1 if parent else 0,
                last_modified_by=SYSTEM,
            )
        area_ids = {key: str(area.pk) for key, area in areas.items()}
        for spec in the_plan.areas:
            areas[spec.key].access_list = _access_list(spec, group_ids, area_ids, schedule_ids)
        area_groups = {
            key: UserGroup(
                property=prop,
                area=area,
                display_name=f"{area.display_name} members",
                group_type=area.area_type,
                group_source=UserGroupGroupSource.AREA,
                last_modified_by=SYSTEM,
            )
            for key, area in areas.items()
        }
        Area.objects.bulk_create(areas.values(), batch_size=BATCH)
        UserGroup.objects.bulk_create(area_groups.values(), batch_size=BATCH)
        locks = {
            spec.key: Lock(
                display_name=f"{spec.name} door",
                property=prop,
                area=areas[spec.key],
                install_date=now,
                last_modified_by=SYSTEM,
            )
            for spec in the_plan.areas
            if spec.lock
        }
        Lock.objects.bulk_create(locks.values(), batch_size=BATCH)

        residents = [
            User(
                email=f"{slug}-resident-{i}@bench.test",
                display_name=f"Resident {i}",
                password="!",
                last_modified_by=SYSTEM,
            )
            for i in range(RESIDENTS_PER_SCALE * scale)
        ]
        staff = [
            User(email=f"{slug}-staff-{i}@bench.test", display_name=f"Staff {i}", password="!", last_modified_by=SYSTEM)
            for i in range(STAFF_PER_SCALE * scale)
        ]
        User.objects.bulk_create(residents + staff, batch_size=BATCH)

        building_of = {spec.key: spec.building for spec in the_plan.areas}
        clubs = [key for key, _, _ in the_plan.groups if key.startswith("club")]
        pairs: list[tuple[str, str]] = []  # (group key or area-group key, user id)
        for i, user in enumerate(residents):
            unit = the_plan.units[i % len(the_plan.units)]
            b = building_of[unit]
            pairs += [(f"area:{unit}", user.pk), ("Residents", user.pk), (f"residents/{b}", user.pk)]
            for key, chance in (("parking", 0.4), ("bikes", 0.2)):
                if rng.random() < chance:
                    pairs.append((f"{key}/{b}", user.pk))
            for key, chance in (("pool", 0.3), ("theater", 0.1), ("dogs", 0.15)):
                if rng.random() < chance:
                    pairs.append((key, user.pk))
            pairs += [(club, user.pk) for club in rng.sample(clubs, rng.randint(0, min(2, len(clubs))))]
        for i, user in enumerate(staff):
            wide = wide_staff is None or i < wide_staff
            pairs += [("Staff" if wide else f"residents/{i % scale}", user.pk), (f"cleaners/{i % scale}", user.pk)]
            if rng.random() < 0.3:
                pairs.append((rng.choice(clubs), user.pk))
        group_pk = {**group_ids, **{f"area:{key}": str(g.pk) for key, g in area_groups.items()}}
        Membership.objects.bulk_create(
            (Membership(user_group_id=group_pk[key], user_id=user_id, created_by=SYSTEM) for key, user_id in pairs),
            batch_size=BATCH * 2,
        )

        unit_locks = [locks[u] for u in the_plan.units if u in locks]
        lobbies = [areas[spec.key] for spec in the_plan.areas if spec.name.endswith(" Lobby")]
        guests = rng.sample(residents, 3 * scale)
        grants = [
            AccessGrant(
                property=prop,
                user=guest,
                lock=rng.choice(unit_locks),
                access_level="GUEST",
                valid_until=now + timedelta(days=30),
                granted_by=SYSTEM,
                last_modified_by=SYSTEM,
            )
            for guest in guests[: 2 * scale]
        ]
        grants += [
            AccessGrant(
                property=prop,
                user=visitor,
                area=rng.choice(lobbies),
                access_level="USER",
                granted_by=SYSTEM,
                last_modified_by=SYSTEM,
            )
            for visitor in guests[2 * scale :]
        ]
        AccessGrant.objects.bulk_create(grants)
        blocked = rng.sample([u for u in residents if u not in guests], scale)
        AccessBlock.objects.bulk_create(AccessBlock(property=prop, user=user, created_by=SYSTEM) for user in blocked)
    if connection.vendor == "postgresql":
        # Steady-state planner statistics (autovacuum would gather them within a minute or so).
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE")
    counts = {
        "users": len(residents) + len(staff),
        "areas": Area.objects.filter(property=prop).count(),
        "locks": Lock.objects.filter(property=prop, area__isnull=False).count(),
        "groups": UserGroup.objects.filter(property=prop, area__isnull=True).count(),
        "area_groups": UserGroup.objects.filter(property=prop, area__isnull=False).count(),
        "memberships": Membership.objects.filter(user_group__property=prop).count(),
        "grants": len(grants),
        "blocked": len(blocked),
        "schedules": len(schedule_ids),
        "units": len(the_plan.units),
        "unit_locks": len(unit_locks),
    }
    expected = {
        "users": 1000 * scale,
        "areas": AREAS_PER_SCALE * scale,
        "locks": LOCKS_PER_SCALE * scale,
        "groups": GROUPS_PER_SCALE * scale,
        "area_groups": AREAS_PER_SCALE * scale,
    }
    if {k: counts[k] for k in expected} != expected:
        raise SystemExit(f"access seed: campus {scale} has {counts}, expected {expected}")
    counts["property_id"] = str(prop.pk)
    counts["seconds"] = round(time.perf_counter() - started, 2)
    return counts


def step_seed() -> dict:
    _events_to_list()
    return {"campuses": {str(scale): campus_seed(scale) for scale in (BIG, SMALL)}}


# --- rebuild -------------------------------------------------------------------------------------------


def _maxrss_mib() -> float:
    """This process's peak resident set size so far (Linux reports KiB)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _derived_counts(property_id) -> dict:
    from apps.access.models import LockAccessEntry, LockAccessVersion, UserAccessMap

    maps = UserAccessMap.objects.filter(property_id=property_id)
    return {
        "lock_lines": LockAccessEntry.objects.filter(property_id=property_id).count(),
        "lines_versions": LockAccessVersion.objects.filter(property_id=property_id).count(),
        "access_maps": maps.count(),
        "map_entries": sum(len(entries) for entries in maps.values_list("entries", flat=True).iterator()),
    }


def _property(scale: int):
    from apps.properties.models import Property

    return Property.objects.get(display_name=CAMPUS_NAMES[scale])


def step_rebuild() -> dict:
    """Big campus first (so the peak-RSS growth is its own), then the small one, then the big one
    again when already current (reads and compares everything, writes nothing)."""
    import gc

    from django.db import connection

    from apps.access import derive

    big, small = _property(BIG), _property(SMALL)
    connection.ensure_connection()
    gc.collect()
    out = {}
    for name, prop in (("big", big), ("small", small)):
        derive.property_clear(property_id=prop.pk)
        rss_before = _maxrss_mib()
        started = time.perf_counter()
        result = derive.property_rebuild(property_id=prop.pk)
        seconds = time.perf_counter() - started
        out[name] = {
            "seconds": round(seconds, 2),
            "maxrss_before_mib": round(rss_before, 1),
            "maxrss_growth_mib": round(_maxrss_mib() - rss_before, 1),
            "locks_changed": len(result.locks_changed),
            "users_changed": len(result.users_changed),
            "users_checked": result.users_checked,
            **_derived_counts(prop.pk),
        }
    started = time.perf_counter()
    again = derive.property_rebuild(property_id=big.pk)
    out["big_current"] = {
        "seconds": round(time.perf_counter() - started, 2),
        "locks_changed": len(again.locks_changed),
        "users_changed": len(again.users_changed),
    }
    if again.locks_changed or again.users_changed:
        raise SystemExit(f"access rebuild: a second rebuild changed {out['big_current']}")
    return out


# --- measure -------------------------------------------------------------------------------------------


def _applied(appended: list, apply) -> tuple[float, float, int]:
    """(service seconds, processing seconds, events) of one change applied the way a worker would."""
    from apps.events.services import event_process

    appended.clear()
    started = time.perf_counter()
    apply()
    service = time.perf_counter() - started
    events = list(appended)
    started = time.perf_counter()
    for event_id in events:
        event = event_process(event_id=event_id)
        if event is None or event.processed_at is None:
            raise SystemExit(f"access measure: event {event_id} not processed: {event and event.last_error}")
    return service, time.perf_counter() - started, len(events)


def _access_map(user, prop):
    from apps.access.models import UserAccessMap

    return UserAccessMap.objects.filter(user_id=user.pk, property_id=prop.pk).first()


class PoolPass:
    """Residents of one campus added to / removed from its Pool pass (the Pool's access list names
    it, with a schedule; nothing else opens the Pool to residents): their own access map changes
    (it gains or loses the Pool door), nothing else may."""

    def __init__(self, scale: int, appended: list):
        from apps.access.models import AccessBlock, LockAccessVersion, UserAccessMap, UserGroup
        from apps.accounts.models import User
        from apps.locks.models import Lock

        self.appended = appended
        self.prop = prop = _property(scale)
        self.pool = UserGroup.objects.get(property=prop, display_name="Pool pass")
        self.pool_door = str(Lock.objects.get(property=prop, area__display_name="Pool").pk)
        residents = UserGroup.objects.get(property=prop, group_source="property", group_type="resident")
        self.users = list(
            User.objects.filter(memberships__user_group=residents)
            .exclude(memberships__user_group=self.pool)
            .exclude(pk__in=AccessBlock.objects.filter(property=prop).values("user_id"))
            .order_by("email")[: CHANGE_RUNS + 2]
        )
        self.lines_versions = dict(
            LockAccessVersion.objects.filter(property_id=prop.pk).values_list("lock_id", "version")
        )
        self.maps = dict(UserAccessMap.objects.filter(property_id=prop.pk).values_list("user_id", "version"))
        self.samples = {True: [], False: []}  # add / remove: (service s, processing s)
        self.queries: dict[bool, list[str]] = {}

    def change(self, user, *, add: bool, record: bool = True, count: bool = False) -> None:
        from django.db import connection
        from django.test.utils import CaptureQueriesContext

        from apps.access import services as access_services
        from apps.core.actors import SYSTEM

        before = _access_map(user, self.prop)
        service = access_services.membership_add if add else access_services.membership_remove
        captured = CaptureQueriesContext(connection)
        with captured if count else contextlib.nullcontext():  # timed runs are not captured
            sample = _applied(self.appended, lambda: service(group=self.pool, user=user, actor=SYSTEM))
        after = _access_map(user, self.prop)
        has_pool = any(e["lockId"] == self.pool_door for e in after.entries)
        if after.version != before.version + 1 or has_pool != add:
            raise SystemExit(f"access measure: {user.email}'s map is not current after the change")
        if count:
            self.queries[add] = [q["sql"] for q in captured.captured_queries]
        elif record:
            self.samples[add].append(sample[:2])

    def check(self) -> None:
        """Only the changed people's maps moved (each twice: in and out), no lock's lines, nothing left."""
        from apps.access.models import LockAccessVersion, Membership, UserAccessMap

        moved = {
            u: v
            for u, v in UserAccessMap.objects.filter(property_id=self.prop.pk).values_list("user_id", "version")
            if self.maps.get(u) != v
        }
        if set(moved) != {u.pk for u in self.users} or any(v != self.maps[u] + 2 for u, v in moved.items()):
            raise SystemExit(f"access measure: unexpected access-map versions moved ({len(moved)} maps)")
        lines_versions = LockAccessVersion.objects.filter(property_id=self.prop.pk).values_list("lock_id", "version")
        if dict(lines_versions) != self.lines_versions:
            raise SystemExit("access measure: a membership change moved an access-lines version")
        if Membership.objects.filter(user_group=self.pool, user__in=self.users).exists():
            raise SystemExit("access measure: the bench left a Pool pass membership behind")

    def summary(self) -> dict:
        def figures(samples):
            totals = [s + p for s, p in samples]
            return {
                "median_ms": round(statistics.median(totals) * 1000, 1),
                "min_ms": round(min(totals) * 1000, 1),
                "max_ms": round(max(totals) * 1000, 1),
                "service_ms": round(statistics.median(s for s, _ in samples) * 1000, 1),
                "processing_ms": round(statistics.median(p for _, p in samples) * 1000, 1),
            }

        return {
            "runs": len(self.samples[True]),
            "add": figures(self.samples[True]),
            "remove": figures(self.samples[False]),
            "queries": {"add": len(self.queries[True]), "remove": len(self.queries[False])},
            "sql": {"add": self.queries[True]},
            "map_entries": statistics.median(len(_access_map(u, self.prop).entries) for u in self.users),
        }


def membership_changes(appended: list) -> dict:
    """Both campuses, their runs interleaved (big, small, small, big, ...) so that anything else
    running on the machine weighs on both alike."""
    campuses = {"big": PoolPass(BIG, appended), "small": PoolPass(SMALL, appended)}
    for campus in campuses.values():
        campus.change(campus.users[0], add=True, record=False)  # warm-up: a process's first change
        campus.change(campus.users[0], add=False, record=False)
        campus.change(campus.users[1], add=True, count=True)
        campus.change(campus.users[1], add=False, count=True)
    for run in range(CHANGE_RUNS):
        order = list(campuses.values()) if run % 2 == 0 else list(reversed(campuses.values()))
        for campus in order:
            campus.change(campus.users[run + 2], add=True)
        for campus in order:
            campus.change(campus.users[run + 2], add=False)
    for campus in campuses.values():
        campus.check()
    return {name: campus.summary() for name, campus in campuses.items()}


def structural_changes(scale: int, appended: list) -> dict:
    """The Clubhouse's Residents entry gets (and loses) a schedule: the Clubhouse locks' lines
    and every resident's access map change."""
    from apps.access import services as access_services
    from apps.access.models import LockAccessVersion, Schedule, UserAccessMap, UserGroup
    from apps.areas.models import Area
    from apps.core.actors import SYSTEM

    prop = _property(scale)
    residents = str(UserGroup.objects.get(property=prop, group_source="property", group_type="resident").pk)
    hours = str(Schedule.objects.get(property=prop, display_name="Clubhouse hours").pk)

    def edit(scheduled: bool) -> dict:
        club = Area.objects.get(property=prop, display_name="Clubhouse")
        entries = [dict(e) for e in club.access_list]
        for entry in entries:
            if entry.get("userGroupId") == residents:
                entry.pop("scheduleId", None)
                if scheduled:
                    entry["scheduleId"] = hours
        maps = dict(UserAccessMap.objects.filter(property_id=prop.pk).values_list("user_id", "version"))
        locks = dict(LockAccessVersion.objects.filter(property_id=prop.pk).values_list("lock_id", "version"))
        service, processing, events = _applied(
            appended, lambda: access_services.area_update(area=club, access_list=entries, actor=SYSTEM)
        )
        maps_after = dict(UserAccessMap.objects.filter(property_id=prop.pk).values_list("user_id", "version"))
        locks_after = dict(LockAccessVersion.objects.filter(property_id=prop.pk).values_list("lock_id", "version"))
        return {
            "seconds": service + processing,
            "events": events,
            "maps_changed": sum(maps_after[u] != maps.get(u) for u in maps_after),
            "locks_changed": sum(locks_after[k] != locks.get(k) for k in locks_after),
        }

    runs = [edit(scheduled=i % 2 == 0) for i in range(STRUCTURAL_RUNS)]
    if STRUCTURAL_RUNS % 2:
        edit(scheduled=False)  # leave the campus as seeded
    return {
        "runs": len(runs),
        "median_s": round(statistics.median(r["seconds"] for r in runs), 2),
        "maps_changed": Counter(r["maps_changed"] for r in runs).most_common(1)[0][0],
        "locks_changed": Counter(r["locks_changed"] for r in runs).most_common(1)[0][0],
    }


def step_measure() -> dict:
    appended = _events_to_list()
    out = {name: {"membership": figures} for name, figures in membership_changes(appended).items()}
    for name, scale in (("big", BIG), ("small", SMALL)):
        out[name]["structural"] = structural_changes(scale, appended)
    return out


STEPS = {"seed": step_seed, "rebuild": step_rebuild, "measure": step_measure}


def main() -> None:
    if len(sys.argv) != 2 or sys.argv[1] not in STEPS:
        raise SystemExit(f"usage: python -m tests.bench.access {{{'|'.join(STEPS)}}}")
    _setup()
    print(json.dumps(STEPS[sys.argv[1]]()))


if __name__ == "__main__":
    main()
