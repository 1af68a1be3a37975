"""apps/properties/demo.py: the demo building, its area tree, groups and people."""

from io import StringIO

import pytest
from rest_framework.test import APIClient

from apps.access.models import Membership, UserGroup
from apps.accounts.models import PermissionGrant, User
from apps.areas.models import Area
from apps.core.principal import Grant
from apps.events.models import Event
from apps.properties import demo
from apps.properties.models import Property

pytestmark = pytest.mark.django_db


def _seed() -> str:
    out = StringIO()
    demo.seed_demo(out)
    return out.getvalue()


def _counts() -> tuple:
    return (
        Property.objects.count(),
        Area.objects.count(),
        UserGroup.objects.count(),
        User.objects.count(),
        Membership.objects.count(),
        PermissionGrant.objects.count(),
        Event.objects.count(),
    )


@pytest.fixture
def prop():
    _seed()
    return Property.objects.get(display_name=demo.DEMO_PROPERTY_NAME)


def test_running_twice_changes_nothing_and_prints_the_password_once():
    first = _seed()
    counts = _counts()
    second = _seed()
    assert _counts() == counts
    assert "dana.whitfield@example.com / " in first
    assert second == ""


def test_the_property_is_realistic(prop):
    assert prop.time_zone == "America/New_York"
    assert prop.address["city"] and prop.address["postalCode"]
    manager = User.objects.get(email="dana.whitfield@example.com")
    assert prop.owner_id == manager.pk
    assert list(prop.access_managers.all()) == [manager]
    grants = [Grant(g.permission, g.property_id, g.scope_user_id) for g in manager.grants.all()]
    assert grants == [Grant("owner", property_id=prop.pk)]


def test_the_area_tree_has_building_floors_units_and_shared_places(prop):
    by_name = {a.display_name: a for a in Area.objects.filter(property=prop)}
    building = by_name["Main building"]
    assert building.parent_id is None and building.depth == 0 and building.ancestor_ids == []
    floors = [by_name[f"Floor {n}"] for n in range(1, 5)]
    assert all(f.parent_id == building.pk and f.area_type == "common" for f in floors)
    units = [a for a in by_name.values() if a.display_name.startswith("Unit ")]
    assert sorted(u.display_name for u in units) == [f"Unit {f}{n:02d}" for f in range(1, 5) for n in range(1, 5)]
    for unit in units:
        floor = by_name[f"Floor {unit.display_name[5]}"]
        assert unit.area_type == "resident" and unit.depth == 2
        assert unit.parent_id == floor.pk and floor.parent_id == building.pk
        assert unit.ancestor_ids == [str(floor.pk), str(building.pk)]  # containingAreaIds: nearest first
    assert by_name["Management office"].area_type == "staff"
    assert {by_name[n].area_type for n in ("Lobby", "Gym", "Parking garage")} == {"common"}
    # Every area has its own area group, as the service makes it.
    assert UserGroup.objects.filter(property=prop, group_source="area").count() == len(by_name)


def test_people_are_in_their_unit_and_some_custom_groups(prop):
    people = User.objects.filter(email__endswith="@example.com")
    assert 45 <= people.count() <= 55
    assert all(p.phone_number.startswith("+1") and len(p.phone_number) == 12 for p in people)
    custom = {g.display_name: g for g in UserGroup.objects.filter(property=prop, group_source="custom")}
    assert set(custom) == {"Gym pass holders", "Garage permit holders", "Maintenance staff"}
    assert all(g.members.exists() for g in custom.values())
    unit_groups = UserGroup.objects.filter(property=prop, area__area_type="resident")
    assert all(g.members.exists() for g in unit_groups)
    residents = UserGroup.objects.get(property=prop, group_source="property", display_name="Residents")
    assert residents.members.count() == sum(g.members.count() for g in unit_groups)


def test_the_manager_signs_in_with_the_printed_password_and_reads_the_tree():
    password = _seed().split("dana.whitfield@example.com / ")[1].split()[0]
    prop = Property.objects.get(display_name=demo.DEMO_PROPERTY_NAME)
    client = APIClient()
    signed_in = client.post(
        "/api/v1/auth/token", {"email": "dana.whitfield@example.com", "password": password}, format="json"
    )
    assert signed_in.status_code == 200
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {signed_in.json()['data']['token']}")
    assert client.get(f"/api/v1/properties/{prop.pk}").json()["data"]["timeZone"] == "America/New_York"
    areas = client.get(f"/api/v1/properties/{prop.pk}/areas").json()["data"]["properties"]
    assert len(areas) == Area.objects.filter(property=prop).count()
    unit = next(a for a in areas if a["displayName"] == "Unit 203")
    floor = next(a for a in areas if a["displayName"] == "Floor 2")
    assert unit["containingAreaIds"] == [floor["areaId"], floor["parentAreaId"]]
    assert unit["areaId"] in floor["subAreaIds"]


def test_demo_access_follows_the_written_rules(prop):
    """A resident opens their door, the floors' stairwells and the lobby, never another unit or
    the office; staff open every door; the gym only Gym pass holders (in gym hours); the dog
    walker one unit, until the grant ends."""
    from tests.factories import access as a

    a.process_events()  # in tests on_commit does not run: process what the seed appended
    doors = {lock.display_name: str(lock.pk) for lock in prop.locks.all()}
    daniel = User.objects.get(email="daniel.martinez@example.com")  # Unit 101, no gym, no permit
    assert {n for n, i in doors.items() if i in a.locks_of(daniel, prop)} == {
        "Unit 101 door",
        "Main entrance",
        *(f"Floor {n} stairwell door" for n in range(1, 5)),
    }
    staff = User.objects.get(email="marcus.bell@example.com")
    assert a.locks_of(staff, prop) == set(doors.values())
    gym = UserGroup.objects.get(property=prop, display_name="Gym pass holders")
    member = gym.members.first()
    assert doors["Gym door"] in a.locks_of(member, prop)
    walker = User.objects.get(email="robin.walker@example.com")
    assert a.locks_of(walker, prop) == {doors["Unit 101 door"]}


def test_the_demo_app_user_lives_in_unit_101_and_their_phone_map_names_its_doors():
    from apps.access.models import UserAccessMap
    from apps.accounts import demo as accounts_demo
    from apps.locks.models import Lock
    from tests.factories.access import process_events

    accounts_demo.seed_demo(StringIO())
    _seed()
    process_events()

    resident = User.objects.get(email=accounts_demo.DEMO_RESIDENT_EMAIL)
    groups = set(Membership.objects.filter(user=resident).values_list("user_group__display_name", flat=True))
    assert groups == {"Unit 101 members", "Residents", "Gym pass holders"}
    [access_map] = UserAccessMap.objects.filter(user_id=resident.pk)
    doors = set(
        Lock.objects.filter(pk__in=[e["lockId"] for e in access_map.entries]).values_list("display_name", flat=True)
    )
    assert {"Unit 101 door", "Floor 1 stairwell door", "Gym door"} <= doors
    assert "Unit 102 door" not in doors and "Office door" not in doors
