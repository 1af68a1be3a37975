"""Schema-driven fuzzing of the SmartphoneKey compatibility API (`/compat/smartphonekey/`).

The same bar as tests/api/test_fuzz.py (docs/RELIABILITY.md): schemathesis over the schema the
server publishes for these calls (`/compat/smartphonekey/schema/`), every check, against
Django's live server on 127.0.0.1, 0 failures. The world is one property with a lock and a
person, and an owner API key of that property; each case is sent with that key (`X-API-Key`)
and a token the token call issued to it (`Authorization: Bearer`), and a drawn id of the right
form is swapped for the world's person or lock, so most cases reach the grant itself. The
checks for missing credentials (`ignored_auth`) send the same cases without them.

Select it with `-m fuzz`; 5 × FUZZ_EXAMPLES (default 5) bounds the examples per operation.
"""

import datetime as dt
import uuid

import pytest
import schemathesis

from apps.core.principal import Grant
from tests.factories import access as a
from tests.factories import directory as d
from tests.factories.accounts import api_key_with
from tests.fuzzing import EXAMPLES, fuzz_config, module_live_server, parse_instant

pytestmark = pytest.mark.fuzz

BASE = "/compat/smartphonekey"
COMPAT_EXAMPLES = 5 * EXAMPLES  # two operations: room for more examples each


@pytest.fixture(scope="module")
def compat_server(django_db_setup, django_db_blocker):
    """A live server and its world, built once for the module (tests/fuzzing.py)."""
    with django_db_blocker.unblock(), module_live_server() as server:
        prop = d.property_create(display_name="Compat Tower", time_zone="Europe/Paris")
        lobby = d.area_create(prop, display_name="Lobby", area_type="common")
        alice = d.user_create(display_name="Alice")
        d.member_add(d.property_group(prop), alice)  # a person of the property: the key may name her
        world = {
            "lockId": str(a.lock_in(lobby, "Lobby door").pk),
            "id": str(alice.pk),
            "key": api_key_with(Grant("owner", property_id=prop.pk))[1],
        }
        world["token"] = _token(server.url, world["key"])
        yield server, world


def _token(base_url: str, key: str) -> str:
    import requests

    response = requests.post(f"{base_url}{BASE}/auth/token", headers={"X-API-Key": key}, timeout=30)
    assert response.status_code == 200, response.text
    return response.json()["token"]


@pytest.fixture
def db():
    """Named `db` so pytest-django creates the test database, without a per-test transaction:
    the world is shared with the live server's connections (see tests/api/test_fuzz.py)."""


@pytest.fixture
def compat_world(compat_server, db):
    """The world, for a test; through `db`, pytest-django creates the test database first."""
    return compat_server[1]


@pytest.fixture(scope="module")
def compat_schema(compat_server):
    server, _ = compat_server
    config = fuzz_config(server.url, examples=COMPAT_EXAMPLES)
    return schemathesis.openapi.from_url(f"{server.url}{BASE}/schema/?format=json", config=config)


schema = schemathesis.pytest.from_fixture("compat_schema")


@schema.parametrize()
def test_every_compat_operation_conforms(case, compat_world):
    world = compat_world
    for name, value in list((case.path_parameters or {}).items()):
        if name in world and _uuid(value):
            case.path_parameters[name] = world[name]
    if isinstance(case.body, dict):
        live = _coherent({k: (world[k] if k == "lockId" and _uuid(v) else v) for k, v in case.body.items()})
        if live != case.body:
            case.body = live
    headers = {"X-API-Key": world["key"], "Authorization": f"Bearer {world['token']}"}
    case.call_and_validate(headers=headers)


@pytest.mark.django_db  # and so pytest-django creates the test database for this module (as in test_fuzz.py)
def test_the_compat_schema_publishes_every_compat_route(client):
    """An operation missing from the compat schema would go unfuzzed: its paths are exactly the
    compat URL patterns (less the schema itself)."""
    from apps.integrations.smartphonekey.compat.urls import urlpatterns

    document = client.get(f"{BASE}/schema/?format=json").json()
    routes = {f"{BASE}/{pattern.pattern}".replace("<str:id>", "{id}") for pattern in urlpatterns}
    assert set(document["paths"]) == routes - {f"{BASE}/schema/"}
    operations = [op["operationId"] for item in document["paths"].values() for op in item.values()]
    assert sorted(operations) == ["compatSmartphoneKeyAddAccessibleLock", "compatSmartphoneKeyToken"]


def _uuid(value) -> bool:
    try:
        uuid.UUID(str(value))
    except ValueError:
        return False
    return isinstance(value, str)


def _coherent(body: dict) -> dict:
    """A validity that ends after it begins, as a client sends it (JSON Schema cannot compare two
    members): when the drawn end is not after the drawn start, the start is left out."""
    begins, ends = (_instant(body.get(name)) for name in ("validFrom", "validUntil"))
    if begins and ends and ends <= begins:
        return {**body, "validFrom": None}
    return body


def _instant(value) -> dt.datetime | None:
    if not isinstance(value, str) or not value:
        return None
    try:
        day = dt.date.fromisoformat(value)
    except ValueError:
        return parse_instant(value)
    return dt.datetime.combine(day, dt.time(), tzinfo=dt.UTC)
