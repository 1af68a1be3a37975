"""Property test: after any sequence of changes, processed one event at a time, the derived
access equals a full rebuild, and says what a brute-force reading of docs/ACCESS.md says; and
the device maps the worker built incrementally (only the devices each event reached) equal a
build-all byte for byte, apart from the sealing's issuedAt/notAfter (PROTOCOL.md §7.5)."""

from datetime import timedelta

import pytest
from django.db import transaction
from django.utils import timezone
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from apps.access import derive
from apps.access import services as access_services
from apps.access.models import AccessBlock, AccessGrant, Membership
from apps.areas.models import Area
from apps.core.actors import SYSTEM
from apps.core.exceptions import ApplicationError
from apps.devices import services as device_services
from apps.devices.models import DeviceMap, UserDevice
from apps.devices.services import maps as device_maps
from apps.keys import canonical
from apps.locks import services as lock_services
from apps.locks.models import Lock
from tests.devices.factories import device_provision
from tests.factories import access as a
from tests.factories import directory as d

pytestmark = pytest.mark.django_db

N_AREAS, N_USERS, N_LOCKS = 6, 5, 4
AREA_TYPES = ["resident", "common", "staff"]

op = st.one_of(
    st.tuples(st.just("member_add"), st.integers(0, 9), st.integers(0, N_USERS - 1)),
    st.tuples(st.just("member_remove"), st.integers(0, 9), st.integers(0, N_USERS - 1)),
    st.tuples(
        st.just("access_list"),
        st.integers(0, N_AREAS - 1),
        st.lists(
            st.tuples(st.sampled_from(["group", "area", "schedule"]), st.integers(0, 9), st.booleans()), max_size=3
        ),
    ),
    st.tuples(st.just("move"), st.integers(0, N_AREAS - 1), st.integers(-1, N_AREAS - 1)),
    st.tuples(st.just("install"), st.integers(0, N_LOCKS - 1), st.integers(0, N_AREAS - 1)),
    st.tuples(st.just("uninstall"), st.integers(0, N_LOCKS - 1), st.just(0)),
    st.tuples(st.just("grant"), st.integers(0, N_USERS - 1), st.integers(0, N_LOCKS + N_AREAS - 1)),
    st.tuples(st.just("revoke"), st.integers(0, 20), st.just(0)),
    st.tuples(st.just("block"), st.integers(0, N_USERS - 1), st.just(0)),
    st.tuples(st.just("unblock"), st.integers(0, N_USERS - 1), st.just(0)),
    st.tuples(st.just("schedule"), st.sampled_from(["08:00", "09:00"]), st.just(0)),
)


def _world(area_types, parents):
    prop = d.property_create(display_name="Random")
    areas = []
    for i, (area_type, parent) in enumerate(zip(area_types, parents, strict=True)):
        parent_area = areas[parent] if parent is not None and parent < i else None
        areas.append(d.area_create(prop, display_name=f"A{i}", area_type=area_type, parent=parent_area))
    groups = [d.property_group(prop, "resident"), d.property_group(prop, "staff")]
    groups += [d.group_create(prop, group_type=t) for t in ("resident", "staff", "common")]
    users = [d.user_create() for _ in range(N_USERS)]
    for i, user in enumerate(users):  # start from a lived-in building, not an empty one
        d.member_add(groups[i % len(groups)], user)
        d.member_add(areas[i].area_user_group, user)
    access_services.area_update(
        area=areas[0], access_list=[{"accessType": "group", "userGroupId": str(groups[0].pk)}], actor=SYSTEM
    )
    locks = [a.lock_in(areas[N_AREAS - 1 - i], f"L{i}") for i in range(N_LOCKS)]
    schedule = access_services.schedule_create(
        prop=prop,
        display_name="Hours",
        windows=[{"days": ["mon"], "start": "08:00", "stop": "18:00"}],
        actor=SYSTEM,
    )
    return prop, areas, groups, users, locks, schedule


def _group(areas, groups, index):
    """Indexes 0–4 are groups; 5–9 are the area groups of areas 0–4."""
    return groups[index] if index < len(groups) else areas[index - len(groups)].area_user_group


def _apply(step, prop, areas, groups, users, locks, schedule):
    kind, x, y = step
    try:
        if kind == "member_add":
            access_services.membership_add(group=_group(areas, groups, x), user=users[y], actor=SYSTEM)
        elif kind == "member_remove":
            access_services.membership_remove(group=_group(areas, groups, x), user=users[y], actor=SYSTEM)
        elif kind == "access_list":
            entries = []
            for entry_kind, index, scheduled in y:
                entry = {"accessType": entry_kind}
                if entry_kind == "group":
                    entry["userGroupId"] = str(_group(areas, groups, index).pk)
                elif entry_kind == "area":
                    entry["areaId"] = str(areas[index % N_AREAS].pk)
                if scheduled or entry_kind == "schedule":
                    entry["scheduleId"] = str(schedule.pk)
                entries.append(entry)
            access_services.area_update(area=Area.objects.get(pk=areas[x].pk), access_list=entries, actor=SYSTEM)
        elif kind == "move":
            parent_id = areas[y].pk if y >= 0 else None
            access_services.area_update(area=Area.objects.get(pk=areas[x].pk), parent_id=parent_id, actor=SYSTEM)
        elif kind == "install":
            lock_services.lock_install(lock=Lock.objects.get(pk=locks[x].pk), area=areas[y], actor=SYSTEM)
        elif kind == "uninstall":
            lock_services.lock_uninstall(lock=Lock.objects.get(pk=locks[x].pk), actor=SYSTEM)
        elif kind == "grant":
            target = {"lock": Lock.objects.get(pk=locks[y].pk)} if y < N_LOCKS else {"area": areas[y - N_LOCKS]}
            access_services.grant_create(
                prop=prop,
                user=users[x],
                access_level="GUEST",
                valid_until=timezone.now() + timedelta(days=1),
                actor=SYSTEM,
                **target,
            )
        elif kind == "revoke":
            grants = list(AccessGrant.objects.filter(property=prop).order_by("id"))
            if grants:
                access_services.grant_revoke(grant=grants[x % len(grants)], actor=SYSTEM)
        elif kind == "block":
            access_services.block_create(prop=prop, user=users[x], actor=SYSTEM)
        elif kind == "unblock":
            access_services.block_delete(prop=prop, user=users[x], actor=SYSTEM)
        elif kind == "schedule":
            access_services.schedule_update(
                schedule=schedule,
                display_name="Hours",
                windows=[{"days": ["mon"], "start": x, "stop": "18:00"}],
                actor=SYSTEM,
            )
    except ApplicationError:
        pass  # refused changes (a cycle, an uninstalled lock's grant) change nothing


def _expected(prop) -> dict[str, set]:
    """Brute force from the rules in docs/ACCESS.md: person -> lock ids."""
    areas = {str(x.pk): x for x in Area.objects.alive().filter(property=prop).select_related("area_user_group")}
    group_type = {str(g.area_user_group.pk): g.area_user_group.group_type for g in areas.values()}
    group_type.update({str(g.pk): g.group_type for g in prop.user_groups.alive()})
    members: dict[str, set] = {}
    for group_id, user_id in Membership.objects.filter(user_group__property=prop).values_list(
        "user_group_id", "user_id"
    ):
        members.setdefault(str(user_id), set()).add(str(group_id))
    blocked = {str(u) for u in AccessBlock.objects.filter(property=prop).values_list("user_id", flat=True)}
    grants = list(derive.grants_counting(property_id=prop.pk))
    expected: dict[str, set] = {}
    for lock in Lock.objects.alive().filter(property=prop, area__isnull=False):
        here = areas[str(lock.area_id)]
        for user_id in set(members) | {str(g.user_id) for g in grants}:
            if user_id in blocked:
                continue
            allowed = False
            for grant in grants:
                if str(grant.user_id) != user_id:
                    continue
                if grant.lock_id == lock.pk:
                    allowed = True
                if grant.area_id and (
                    str(grant.area_id) == str(here.pk)
                    or (str(grant.area_id) in here.ancestor_ids and here.area_type == "common")
                ):
                    allowed = True
            for area_id in [str(here.pk), *here.ancestor_ids]:
                area = areas[area_id]
                subjects = [str(area.area_user_group.pk)]
                for entry in area.access_list:
                    if entry["accessType"] == "group":
                        subjects.append(entry["userGroupId"])
                    elif entry["accessType"] == "area":
                        subjects.append(str(areas[entry["areaId"]].area_user_group.pk))
                for subject in subjects:
                    reaches = area_id == str(here.pk) or here.area_type == "common" or group_type[subject] == "staff"
                    if reaches and subject in members.get(user_id, ()):
                        allowed = True
            if allowed:
                expected.setdefault(user_id, set()).add(str(lock.pk))
    return expected


def _device_maps(phones) -> dict[str, bytes]:
    """{device id: the canonical bytes of its stored map, opened by its phone, without the
    sealing's issuedAt/notAfter}: what the phone would hold."""
    stored = {str(m.device_id): m for m in DeviceMap.objects.all()}
    found = {}
    for phone in phones:
        row = stored[phone.user_device_id]
        assert row.current, phone.user_device_id
        document = phone.open_map(row.sealed, version=str(row.version))
        found[phone.user_device_id] = canonical.canonical(
            {k: v for k, v in document.items() if k not in ("issuedAt", "notAfter")}
        )
    return found


def _computed_now(phones) -> dict[str, bytes]:
    """The same, computed from scratch from the (rebuilt) derived access."""
    found = {}
    for device in UserDevice.objects.filter(pk__in=[p.user_device_id for p in phones]).select_related("access_key"):
        content = device_maps.map_compute(device, SYSTEM).content
        found[str(device.pk)] = canonical.canonical({**content, "userAccessMapVersion": str(device.map_version)})
    return found


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    area_types=st.lists(st.sampled_from(AREA_TYPES), min_size=N_AREAS, max_size=N_AREAS),
    parents=st.lists(st.one_of(st.none(), st.integers(0, N_AREAS - 1)), min_size=N_AREAS, max_size=N_AREAS),
    steps=st.lists(op, min_size=1, max_size=25),
)
def test_incremental_equals_rebuild_and_the_rules(area_types, parents, steps):
    with transaction.atomic():
        prop, areas, groups, users, locks, schedule = _world(area_types, parents)
        phones = [device_provision(user)[1] for user in users]
        a.process_events()
        device_services.device_maps_build_pending(actor=SYSTEM)  # the worker, after commit
        for step in steps:
            _apply(step, prop, areas, groups, users, locks, schedule)
            a.process_events()
            device_services.device_maps_build_pending(actor=SYSTEM)
        incremental = a.snapshot(prop)
        incremental_devices = _device_maps(phones)

        result = derive.property_rebuild(property_id=prop.pk)

        assert (result.locks_changed, result.users_changed) == (set(), set())
        assert a.snapshot(prop) == incremental
        stored = {str(u.pk): a.locks_of(u, prop) for u in users}
        expected = _expected(prop)
        assert stored == {str(u.pk): expected.get(str(u.pk), set()) for u in users}

        rebuilt = device_services.device_maps_rebuild(actor=SYSTEM)
        assert rebuilt == {"checked": len(phones), "sealed": 0}  # no version moved
        assert _device_maps(phones) == incremental_devices == _computed_now(phones)
        transaction.set_rollback(True)
