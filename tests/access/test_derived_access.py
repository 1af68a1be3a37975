"""Derived access end to end through services and event processing (docs/ACCESS.md).

The building: Tower (resident, top level) holds Unit 1 and Unit 2 (resident), the Lobby
(common) and the Staff room (staff); one lock on each of those four. Tower's access list
names the property's Residents and Staff groups.
"""

from datetime import timedelta
from types import SimpleNamespace

import pytest
from django.utils import timezone

from apps.access import derive
from apps.access import services as access_services
from apps.access.models import LockAccessEntry
from apps.core.actors import SYSTEM
from apps.core.exceptions import ApplicationError
from tests.factories import access as a
from tests.factories import directory as d

pytestmark = pytest.mark.django_db


@pytest.fixture
def tower():
    prop = d.property_create(display_name="Tower")
    residents, staff = d.property_group(prop, "resident"), d.property_group(prop, "staff")
    building = d.area_create(
        prop,
        display_name="Tower",
        access_list=[
            {"accessType": "group", "userGroupId": str(residents.pk)},
            {"accessType": "group", "userGroupId": str(staff.pk)},
        ],
    )
    unit1 = d.area_create(prop, display_name="Unit 1", parent=building)
    unit2 = d.area_create(prop, display_name="Unit 2", parent=building)
    lobby = d.area_create(prop, display_name="Lobby", area_type="common", parent=building)
    staff_room = d.area_create(prop, display_name="Staff room", area_type="staff", parent=building)
    alice, bob, sam = d.user_create(display_name="Alice"), d.user_create(display_name="Bob"), d.user_create()
    for group, person in ((residents, alice), (residents, bob), (staff, sam)):
        d.member_add(group, person)
    d.member_add(unit1.area_user_group, alice)
    d.member_add(unit2.area_user_group, bob)
    w = SimpleNamespace(
        prop=prop,
        residents=residents,
        staff=staff,
        building=building,
        unit1=unit1,
        unit2=unit2,
        lobby=lobby,
        staff_room=staff_room,
        alice=alice,
        bob=bob,
        sam=sam,
        door1=a.lock_in(unit1),
        door2=a.lock_in(unit2),
        lobby_door=a.lock_in(lobby),
        staff_door=a.lock_in(staff_room),
    )
    a.process_events()
    return w


def _ids(*locks) -> set:
    return {str(lock.pk) for lock in locks}


def test_a_building_entry_opens_common_areas_but_not_other_units_and_staff_open_everything(tower):
    w = tower
    assert a.locks_of(w.alice, w.prop) == _ids(w.door1, w.lobby_door)
    assert a.locks_of(w.bob, w.prop) == _ids(w.door2, w.lobby_door)
    assert a.locks_of(w.sam, w.prop) == _ids(w.door1, w.door2, w.lobby_door, w.staff_door)


def test_a_membership_change_moves_only_that_persons_map(tower):
    w = tower
    versions = {lock: a.lines_version(lock) for lock in (w.door1, w.door2, w.lobby_door, w.staff_door)}
    bob_before, alice_before = a.map_version(w.bob, w.prop), a.map_version(w.alice, w.prop)

    access_services.membership_add(group=w.unit1.area_user_group, user=w.bob, actor=SYSTEM)
    a.process_events()

    assert a.locks_of(w.bob, w.prop) == _ids(w.door1, w.door2, w.lobby_door)
    assert a.map_version(w.bob, w.prop) == bob_before + 1
    assert a.map_version(w.alice, w.prop) == alice_before
    assert {lock: a.lines_version(lock) for lock in versions} == versions  # lines name groups

    access_services.membership_remove(group=w.residents, user=w.bob, actor=SYSTEM)
    access_services.membership_remove(group=w.unit2.area_user_group, user=w.bob, actor=SYSTEM)
    a.process_events()
    assert a.locks_of(w.bob, w.prop) == _ids(w.door1)  # still in Unit 1's group: its own door only


def test_an_identical_access_list_changes_no_version_and_a_real_change_does(tower):
    w = tower
    snapshot = a.snapshot(w.prop)
    access_services.area_update(area=w.building, access_list=list(w.building.access_list), actor=SYSTEM)
    a.process_events()
    assert a.snapshot(w.prop) == snapshot

    access_services.area_update(area=w.building, access_list=[w.building.access_list[1]], actor=SYSTEM)
    a.process_events()

    assert a.locks_of(w.alice, w.prop) == _ids(w.door1)  # Residents no longer reach the lobby
    assert a.lines_version(w.lobby_door) == 2
    assert a.lines_version(w.door1) == 1  # unit doors never had the Residents line


def test_moving_a_unit_under_the_lobby_does_not_open_it_to_residents(tower):
    w = tower
    access_services.area_update(area=w.unit2, parent_id=w.lobby.pk, actor=SYSTEM)
    a.process_events()
    assert a.locks_of(w.alice, w.prop) == _ids(w.door1, w.lobby_door)
    assert str(w.door2.pk) in a.locks_of(w.sam, w.prop)


def test_a_schedule_restricts_an_entry_and_editing_it_raises_the_versions_that_use_it(tower):
    w = tower
    hours = access_services.schedule_create(
        prop=w.prop,
        display_name="Gym hours",
        windows=[{"days": ["mon", "tue", "wed", "thu", "fri"], "start": "06:00", "stop": "22:00"}],
        actor=SYSTEM,
    )
    gym = d.area_create(w.prop, display_name="Gym", area_type="common")
    gym_door = a.lock_in(gym)
    access_services.area_update(
        area=gym,
        access_list=[{"accessType": "group", "userGroupId": str(w.residents.pk), "scheduleId": str(hours.pk)}],
        actor=SYSTEM,
    )
    a.process_events()
    entry = next(e for e in a_map(w.alice, w.prop) if e["lockId"] == str(gym_door.pk))
    assert entry["scheduleId"] == str(hours.pk)
    before, alice_before = a.lines_version(gym_door), a.map_version(w.alice, w.prop)

    access_services.schedule_update(
        schedule=hours,
        display_name="Gym hours",
        windows=[{"days": ["mon", "tue", "wed", "thu", "fri", "sat"], "start": "06:00", "stop": "22:00"}],
        actor=SYSTEM,
    )
    a.process_events()

    assert a.lines_version(gym_door) == before + 1
    assert a.map_version(w.alice, w.prop) == alice_before + 1
    assert a.lines_version(w.lobby_door) == 1


def a_map(user, prop) -> list:
    from apps.access.models import UserAccessMap

    return UserAccessMap.objects.get(user_id=user.pk, property_id=prop.pk).entries


def test_a_blocked_person_has_no_access_and_every_lock_denies_them(tower):
    w = tower
    access_services.block_create(prop=w.prop, user=w.alice, actor=SYSTEM, reason="lease ended")
    a.process_events()

    assert a.locks_of(w.alice, w.prop) == set()
    denied = set(LockAccessEntry.objects.filter(kind="deny", subject_id=w.alice.pk).values_list("lock_id", flat=True))
    assert {str(x) for x in denied} == _ids(w.door1, w.door2, w.lobby_door, w.staff_door)

    access_services.block_delete(prop=w.prop, user=w.alice, actor=SYSTEM)
    a.process_events()
    assert a.locks_of(w.alice, w.prop) == _ids(w.door1, w.lobby_door)
    assert not LockAccessEntry.objects.filter(kind="deny").exists()


def test_a_guest_grant_must_end_counts_until_then_and_expires_without_anyone_acting(tower):
    w = tower
    guest = d.user_create(display_name="Guest")
    with pytest.raises(ApplicationError, match="validUntil: Required for GUEST grants"):
        access_services.grant_create(prop=w.prop, user=guest, lock=w.door1, access_level="GUEST", actor=SYSTEM)

    until = timezone.now() + timedelta(hours=2)
    grant = access_services.grant_create(
        prop=w.prop, user=guest, lock=w.door1, access_level="GUEST", valid_until=until, actor=SYSTEM
    )
    a.process_events()
    (entry,) = a_map(guest, w.prop)
    assert entry["lockId"] == str(w.door1.pk) and entry["source"] == f"grant:{grant.pk}"
    assert entry["validUntil"] is not None  # the lock enforces it offline

    assert access_services.grants_expire(now=until - timedelta(seconds=1)) == 0
    assert access_services.grants_expire(now=until + timedelta(seconds=1)) == 1
    a.process_events()

    assert a.locks_of(guest, w.prop) == set()
    grant.refresh_from_db()
    assert grant.expired_at is not None


def test_an_area_grant_reaches_the_area_and_its_common_sub_areas_only(tower):
    w = tower
    visitor = d.user_create()
    access_services.grant_create(prop=w.prop, user=visitor, area=w.building, access_level="USER", actor=SYSTEM)
    a.process_events()
    assert a.locks_of(visitor, w.prop) == _ids(w.lobby_door)

    grant = access_services.grant_create(prop=w.prop, user=visitor, lock=w.door2, access_level="USER", actor=SYSTEM)
    a.process_events()
    assert a.locks_of(visitor, w.prop) == _ids(w.lobby_door, w.door2)

    access_services.grant_revoke(grant=grant, actor=SYSTEM)
    a.process_events()
    assert a.locks_of(visitor, w.prop) == _ids(w.lobby_door)


def test_deleting_a_group_recomputes_its_former_members(tower):
    w = tower
    gym = d.area_create(w.prop, display_name="Gym", area_type="common")
    gym_door = a.lock_in(gym)
    club = d.group_create(w.prop, display_name="Club", members=[w.bob])
    access_services.area_update(
        area=gym, access_list=[{"accessType": "group", "userGroupId": str(club.pk)}], actor=SYSTEM
    )
    a.process_events()
    assert str(gym_door.pk) in a.locks_of(w.bob, w.prop)

    access_services.area_update(area=gym, access_list=[], actor=SYSTEM)
    access_services.user_group_delete(group=club, actor=SYSTEM)
    a.process_events()
    assert str(gym_door.pk) not in a.locks_of(w.bob, w.prop)


def test_rebuild_after_incremental_changes_nothing(tower):
    w = tower
    access_services.membership_add(group=w.staff, user=w.bob, actor=SYSTEM)
    access_services.area_update(area=w.unit1, parent_id=None, actor=SYSTEM)
    a.process_events()
    before = a.snapshot(w.prop)

    result = derive.property_rebuild(property_id=w.prop.pk)

    assert (result.locks_changed, result.users_changed) == (set(), set())
    assert a.snapshot(w.prop) == before


def test_an_access_list_edit_recomputes_the_people_of_the_entries_that_moved_not_everyone_named(tower):
    """Residents' entry gains a schedule: Alice and Bob are recomputed; Sam (Staff, whose entry
    on the same locks did not move) is not read at all. A schedule edit reaches everyone its
    lines name."""
    w = tower
    hours = access_services.schedule_create(
        prop=w.prop, display_name="Hours", windows=[{"days": ["mon"], "start": "06:00", "stop": "22:00"}], actor=SYSTEM
    )
    a.process_events()
    entries = [
        {"accessType": "group", "userGroupId": str(w.residents.pk), "scheduleId": str(hours.pk)},
        {"accessType": "group", "userGroupId": str(w.staff.pk)},
    ]
    access_services.area_update(area=w.building, access_list=entries, actor=SYSTEM)

    result = derive.property_refresh(property_id=w.prop.pk)

    assert result.users_changed == {str(w.alice.pk), str(w.bob.pk)}
    assert result.users_checked == 2  # not Sam
    sam_before = a.map_version(w.sam, w.prop)
    access_services.schedule_update(
        schedule=hours,
        display_name="Hours",
        windows=[{"days": ["tue"], "start": "06:00", "stop": "22:00"}],
        actor=SYSTEM,
    )
    result = derive.property_refresh(property_id=w.prop.pk)
    assert result.users_changed == {str(w.alice.pk), str(w.bob.pk)}
    assert result.users_checked == 3  # every person the edited locks name, Sam too (unchanged)
    assert a.map_version(w.sam, w.prop) == sam_before


def test_a_rebuild_that_writes_maps_part_way_through_a_chunk_stores_the_same_maps(tower, monkeypatch):
    """A chunk of people whose maps hold many entries (a property's staff) is written before the
    chunk ends, to bound memory: the stored maps are those a rebuild holding the chunk makes."""
    from apps.access.models import UserAccessMap

    w = tower
    access_services.membership_add(group=w.staff, user=w.bob, actor=SYSTEM)
    a.process_events()

    def rebuilt_from_empty() -> dict:
        UserAccessMap.objects.filter(property_id=w.prop.pk).delete()
        derive.property_rebuild(property_id=w.prop.pk)
        maps = UserAccessMap.objects.filter(property_id=w.prop.pk)
        return {str(m.user_id): (m.version, m.digest, m.entries) for m in maps}

    whole = rebuilt_from_empty()
    monkeypatch.setattr(derive, "CHUNK_ENTRIES", 1)  # written after every person with access
    assert len(whole) >= 3 and rebuilt_from_empty() == whole


def test_lock_lines_written_in_batches_of_one_are_the_lines_of_one_batch(tower, monkeypatch):
    """The lock side writes lines in batches (COPY on PostgreSQL): with a batch per line, a
    rebuild from empty and a structural change that replaces stored lines leave the same lines
    and versions as with one batch for the whole property."""
    from apps.access import line_writes
    from apps.access.models import LockAccessEntry, LockAccessVersion

    w = tower

    def lines() -> tuple:
        rows = LockAccessEntry.objects.filter(property_id=w.prop.pk).values_list(
            "lock_id", "kind", "subject_id", "schedule_id", "valid_from", "valid_until", "source", "source_area_id"
        )
        versions = LockAccessVersion.objects.filter(property_id=w.prop.pk).values_list("lock_id", "version", "digest")
        return sorted(map(str, rows)), sorted(map(str, versions))

    def rebuilt_from_empty() -> tuple:
        LockAccessEntry.objects.filter(property_id=w.prop.pk).delete()
        LockAccessVersion.objects.filter(property_id=w.prop.pk).delete()
        derive.property_rebuild(property_id=w.prop.pk)
        return lines()

    whole = rebuilt_from_empty()
    assert len(whole[0]) >= 3
    monkeypatch.setattr(line_writes, "LINE_WRITE_BATCH", 1)
    assert rebuilt_from_empty() == whole
    # stored lines replaced batch by batch: every lock's lines go and come back, changed
    LockAccessEntry.objects.filter(property_id=w.prop.pk).update(source="stale")
    derive.property_refresh(property_id=w.prop.pk)
    assert lines()[0] == whole[0]
