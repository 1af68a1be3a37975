"""The per-process copy of the firmware assignments (firmware.assignment_cache): a repeat read
of a property or its areas runs no firmware query, its counter is read with the API-key
counter in one query, and a change is shown on the very next request, whether made here,
through the API, or elsewhere (the counter raised in another process); a change that rolls
back changes nothing. Across gunicorn workers: test_assignment_cache_gunicorn.py."""

import pytest
from django.db import connection, transaction
from django.db.models import F
from django.test.utils import CaptureQueriesContext
from rest_framework.test import APIClient

from apps.accounts.models import CredentialVersion
from apps.core.actors import SYSTEM
from apps.core.principal import Grant
from apps.firmware import services
from apps.firmware.assignment_cache import assignment_cache_clear
from apps.firmware.models import FirmwareAssignment, FirmwareAssignmentVersion
from tests.factories import directory as d
from tests.factories.accounts import api_key_with
from tests.firmware.conftest import firmware_upload

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _counters():
    # A transactional test elsewhere in this process flushes the tables, the counter rows too
    # (then every read takes the uncached path, correctly); the migrations' rows, again.
    CredentialVersion.objects.get_or_create(pk=1)
    FirmwareAssignmentVersion.objects.get_or_create(pk=1)
    assignment_cache_clear()
    yield
    assignment_cache_clear()


@pytest.fixture
def place():
    prop = d.property_create()
    building = d.area_create(prop, display_name="Building")
    flat = d.area_create(prop, parent=building, display_name="Flat")
    _, secret = api_key_with(Grant("owner"), Grant("manage-firmware"))
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {secret}")
    client.get("/api/v1/api-keys")  # the key's first use writes lastUsedAt: not measured
    return client, prop, building, flat


def _required(client, prop) -> str | None:
    response = client.get(f"/api/v1/properties/{prop.pk}")
    assert response.status_code == 200, response.content
    return response.json()["data"]["private"]["requiredFirmwareVersion"]


def _required_by_area(client, prop) -> dict:
    response = client.get(f"/api/v1/properties/{prop.pk}/areas")
    assert response.status_code == 200, response.content
    return {a["displayName"]: a["private"]["requiredFirmwareVersion"] for a in response.json()["data"]["properties"]}


def _sql(client, path) -> list[str]:
    with CaptureQueriesContext(connection) as queries:
        assert client.get(path).status_code == 200
    return [q["sql"] for q in queries.captured_queries]


def _raise_elsewhere() -> None:
    """What another process's committed change looks like from here: the rows and the counter
    change, and this process runs none of its own bookkeeping."""
    FirmwareAssignmentVersion.objects.filter(pk=1).update(value=F("value") + 1)


def test_a_repeat_read_runs_no_firmware_query_and_one_counter_query(place):
    client, prop, _, _ = place
    for path in (f"/api/v1/properties/{prop.pk}", f"/api/v1/properties/{prop.pk}/areas"):
        client.get(path)  # fills the copy
        sql = _sql(client, path)
        (counters,) = [s for s in sql if "firmware_firmwareassignmentversion" in s]
        assert "accounts_credentialversion" in counters  # the same query: no extra round trip
        assert not any('"firmware_firmwareassignment"' in s for s in sql), sql  # the ORM quotes its tables


def test_an_assignment_is_shown_on_the_next_request(place):
    client, prop, building, _ = place
    one, two = firmware_upload("1.0", b"one"), firmware_upload("2.0", b"two")
    assert _required(client, prop) is None
    assert _required_by_area(client, prop) == {"Building": None, "Flat": None}
    services.firmware_assign(firmware_version=one, scope="property", prop=prop, actor=SYSTEM)
    assert _required(client, prop) == "1.0"
    assert _required_by_area(client, prop) == {"Building": "1.0", "Flat": "1.0"}
    services.firmware_assign(firmware_version=two, scope="area", area=building, actor=SYSTEM)
    assert _required(client, prop) == "1.0"
    assert _required_by_area(client, prop) == {"Building": "2.0", "Flat": "2.0"}
    services.firmware_unassign(scope="property", prop=prop, actor=SYSTEM)
    assert _required(client, prop) is None
    assert _required_by_area(client, prop) == {"Building": "2.0", "Flat": "2.0"}


def test_a_global_assignment_reaches_every_kept_property(place):
    client, prop, _, _ = place
    other = d.property_create()
    assert (_required(client, prop), _required(client, other)) == (None, None)
    services.firmware_assign(firmware_version=firmware_upload("3.0", b"three"), scope="global", actor=SYSTEM)
    assert (_required(client, prop), _required(client, other)) == ("3.0", "3.0")


def test_an_assignment_through_the_api_is_shown_by_the_next_request(place):
    client, prop, _, flat = place
    firmware_upload("4.0", b"four")
    assert _required_by_area(client, prop)["Flat"] is None
    response = client.put(f"/api/v1/firmware/4.0/assign?scope=area&areaId={flat.pk}")
    assert response.status_code == 200, response.content
    assert _required_by_area(client, prop) == {"Building": None, "Flat": "4.0"}
    assert client.put(f"/api/v1/firmware/unassign?scope=area&areaId={flat.pk}").status_code == 200
    assert _required_by_area(client, prop) == {"Building": None, "Flat": None}


def test_a_change_committed_by_another_process_is_shown_on_the_next_request(place):
    client, prop, _, _ = place
    version = firmware_upload("5.0", b"five")
    assert _required(client, prop) is None  # kept
    FirmwareAssignment.objects.create(firmware_version=version, scope="property", property=prop)
    assert _required(client, prop) is None  # the copy is used while the counter is unchanged...
    _raise_elsewhere()
    assert _required(client, prop) == "5.0"  # ...and dropped on the next request once it moves


def test_a_change_that_rolls_back_leaves_nothing_behind(place):
    client, prop, _, _ = place
    version = firmware_upload("6.0", b"six")
    assert _required(client, prop) is None
    with pytest.raises(RuntimeError), transaction.atomic():
        services.firmware_assign(firmware_version=version, scope="property", prop=prop, actor=SYSTEM)
        assert _required(client, prop) == "6.0"  # inside the change, its own rows
        raise RuntimeError("roll back")
    assert _required(client, prop) is None
    # The counter is back where it was: what was read inside the change was not kept under it.
    _raise_elsewhere()
    FirmwareAssignment.objects.filter(property=prop).delete()
    assert _required(client, prop) is None


def test_without_the_counter_row_every_read_goes_to_the_database(place):
    client, prop, _, _ = place
    version = firmware_upload("7.0", b"seven")
    FirmwareAssignmentVersion.objects.all().delete()
    assert _required(client, prop) is None
    FirmwareAssignment.objects.create(firmware_version=version, scope="property", property=prop)
    assert _required(client, prop) == "7.0"  # nothing was kept: no counter to keep it under
    services.firmware_unassign(scope="property", prop=prop, actor=SYSTEM)  # the bump makes the row again
    assert FirmwareAssignmentVersion.objects.get().value == 1
    assert _required(client, prop) is None
