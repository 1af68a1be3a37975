"""A small world for device tests: property A (Tower with a Residents entry, a lock in it,
a gym open on a schedule), property B with its own manager, and people with passwords."""

from dataclasses import dataclass

import pytest
from rest_framework.test import APIClient

from apps.access import services as access_services
from apps.core.actors import SYSTEM
from apps.core.principal import Grant
from tests.factories import directory as d
from tests.factories.access import lock_in, process_events
from tests.factories.accounts import key_client

PASSWORD = "correct horse battery"


@pytest.fixture(autouse=True)
def _fast_password_hashing(fast_password_hashing):
    """Every device test gets tests/conftest.py's fast_password_hashing (people sign in by password)."""


def person_client(user) -> APIClient:
    """An APIClient signed in as `user` through the sign-in endpoint (a `khu_` token, `me`)."""
    response = APIClient().post("/api/v1/auth/token", {"email": user.email, "password": PASSWORD}, format="json")
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {d.ok(response)['token']}")
    return client


@dataclass
class World:
    prop_a: object
    prop_b: object
    tower: object
    gym: object
    tower_door: object
    gym_door: object
    gym_hours: object
    alice: object
    bob: object
    carol: object  # resident of B only


@pytest.fixture
def world(db) -> World:
    prop_a, prop_b = d.property_create(time_zone="Europe/London"), d.property_create()
    residents = d.property_group(prop_a)
    gym_hours = access_services.schedule_create(
        prop=prop_a,
        display_name="Gym hours",
        windows=[{"days": ["mon", "tue", "wed", "thu", "fri"], "start": "06:00", "stop": "22:00"}],
        actor=SYSTEM,
    )
    tower = d.area_create(prop_a, access_list=[{"accessType": "group", "userGroupId": str(residents.pk)}])
    gym = d.area_create(prop_a, area_type="resident", display_name="Gym")
    access_services.area_update(
        area=gym,
        access_list=[{"accessType": "group", "userGroupId": str(residents.pk), "scheduleId": str(gym_hours.pk)}],
        actor=SYSTEM,
    )
    tower_door, gym_door = lock_in(tower, "Tower door"), lock_in(gym, "Gym door")
    alice, bob, carol = (d.user_create(password=PASSWORD) for _ in range(3))
    d.member_add(residents, alice)
    d.member_add(residents, bob)
    d.member_add(d.property_group(prop_b), carol)
    process_events()
    return World(prop_a, prop_b, tower, gym, tower_door, gym_door, gym_hours, alice, bob, carol)


@pytest.fixture
def manager_a(world):
    return key_client(Grant("manage-access", property_id=world.prop_a.pk))


@pytest.fixture
def manager_b(world):
    return key_client(Grant("manage-access", property_id=world.prop_b.pk))
