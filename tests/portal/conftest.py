"""A property with a Tower (resident) holding Unit 1, Unit 2 (resident) and the Lobby (common),
a door in each; Unit 1 has Ulla (UNIT), Lena (LINKED); Unit 2 has Uma (UNIT)."""

from dataclasses import dataclass

import pytest
from rest_framework.test import APIClient

from apps.core.actors import SYSTEM
from apps.portal import services
from tests.factories import access as a
from tests.factories import directory as d


@dataclass
class Building:
    prop: object
    tower: object
    unit1: object
    unit2: object
    lobby: object
    token1: str
    token2: str
    ulla: object  # UnitUser, UNIT of unit 1
    lena: object  # UnitUser, LINKED of unit 1
    uma: object  # UnitUser, UNIT of unit 2
    doors: dict


def unit_client(token: str) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {token}")
    return client


def add(area, *, name: str, user_type: str, **kw):
    user = d.user_create(display_name=name, email=f"{name.split()[0].lower()}@example.test")
    return services.unit_user_create(area=area, user=user, user_type=user_type, actor=SYSTEM, **kw)


@pytest.fixture
def building(db) -> Building:
    prop = d.property_create(display_name="Harbour View", time_zone="Europe/London")
    tower = d.area_create(prop, display_name="Tower")
    unit1, token1 = services.unit_create(prop=prop, display_name="Unit 1", parent_id=tower.pk, actor=SYSTEM)
    unit2, token2 = services.unit_create(prop=prop, display_name="Unit 2", parent_id=tower.pk, actor=SYSTEM)
    lobby = d.area_create(prop, display_name="Lobby", area_type="common", parent=tower)
    doors = {"unit1": a.lock_in(unit1), "unit2": a.lock_in(unit2), "lobby": a.lock_in(lobby)}
    ulla = add(unit1, name="Ulla Unit", user_type="UNIT")
    lena = add(unit1, name="Lena Linked", user_type="LINKED")
    uma = add(unit2, name="Uma Other", user_type="UNIT")
    a.process_events()
    return Building(prop, tower, unit1, unit2, lobby, token1, token2, ulla, lena, uma, doors)


@pytest.fixture(autouse=True)
def _tasks_run_here(eager_celery):
    """Tasks (polls, mails) run in the test's process, also under CI phase 2 (tests/conftest.py)."""
