"""Operations 26–30: CRUD of a person's devices and who may do what (docs/API.md)."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from rest_framework.test import APIClient

from apps.core.principal import Grant
from apps.events.models import Event
from tests.devices.conftest import person_client
from tests.devices.factories import device_provision
from tests.devices.phone import Phone
from tests.factories.accounts import key_client
from tests.factories.directory import member_add, ok, property_group, refused, user_create

pytestmark = pytest.mark.django_db


def _devices_url(user, device=None) -> str:
    url = f"/api/v1/users/{user.pk}/devices"
    return f"{url}/{device.pk}" if device is not None else url


def test_provision_through_the_api_returns_the_device_with_its_public_keys(world):
    phone = Phone.generate()
    data = ok(
        person_client(world.alice).post(_devices_url(world.alice), phone.provision_body("Alice's phone"), format="json")
    )
    assert data["userId"] == str(world.alice.pk)
    assert (data["deviceType"], data["makeModel"], data["displayName"]) == ("iOS", "iPhone 15", "Alice's phone")
    assert (data["type"], data["typeState"]) == ("userDevice", "active")
    private = data["private"]
    assert private["deviceAccessKey"]["kid"] == phone.access.kid
    assert private["deviceSyncKey"]["kid"] == phone.sync.kid
    assert private["deviceSyncEncryptionKey"]["offlineAsymmetricKey"]["algorithm"] == "X25519"
    assert private["currentUserAccessMapVersion"] == "" and private["lastKnownSyncDate"] is None
    assert Event.objects.filter(event_name="device.provisioned", user_device_id=data["userDeviceId"]).exists()


def test_provision_refuses_a_key_already_registered_and_bad_keys(world):
    client = person_client(world.alice)
    phone = Phone.generate()
    ok(client.post(_devices_url(world.alice), phone.provision_body(), format="json"))
    again = Phone.generate()
    again.sync = phone.sync
    body = refused(client.post(_devices_url(world.alice), again.provision_body(), format="json"), 409)
    assert "deviceSyncPublicKey" in body["data"]["fields"]
    bad = {**Phone.generate().provision_body(), "deviceAccessPublicKey": "AAAA", "deviceType": "Nokia"}
    body = refused(client.post(_devices_url(world.alice), bad, format="json"), 400)
    assert set(body["data"]["fields"]) == {"deviceAccessPublicKey", "deviceType"}
    padded = {**Phone.generate().provision_body()}
    padded["deviceSyncPublicKey"] += "="
    assert "deviceSyncPublicKey" in refused(client.post(_devices_url(world.alice), padded, format="json"), 400)["error"]
    assert len(ok(client.get(_devices_url(world.alice)))["devices"]) == 1


def test_list_get_update_deprovision(world):
    client = person_client(world.alice)
    first, _ = device_provision(world.alice)
    second, _ = device_provision(world.alice, display_name="Work phone", device_type="Android")
    listed = ok(client.get(_devices_url(world.alice)))
    assert set(listed) == {"devices"}  # unpaged, as the spec says
    assert [d["userDeviceId"] for d in listed["devices"]] == [str(first.pk), str(second.pk)]

    got = ok(client.get(_devices_url(world.alice, second)))
    assert got["displayName"] == "Work phone" and got["deviceType"] == "Android"

    updated = ok(client.put(_devices_url(world.alice, second), {"displayName": "Old phone"}, format="json"))
    assert updated["displayName"] == "Old phone"
    refused(
        client.put(_devices_url(world.alice, second), {"displayName": "x", "currentOsVersion": "1"}, format="json"), 400
    )

    gone = ok(client.delete(_devices_url(world.alice, second)))
    assert gone["typeState"] == "deleted" and gone["userDeviceId"] == str(second.pk)
    assert gone["private"]["deviceAccessKey"]["typeState"] == "inactive"
    refused(client.get(_devices_url(world.alice, second)), 404)
    assert [d["userDeviceId"] for d in ok(client.get(_devices_url(world.alice)))["devices"]] == [str(first.pk)]


def test_device_ids_on_the_user(world, manager_a):
    device, _ = device_provision(world.alice)
    assert ok(person_client(world.alice).get("/api/v1/me"))["deviceIds"] == [str(device.pk)]
    assert ok(manager_a.get(f"/api/v1/users/{world.alice.pk}"))["deviceIds"] == [str(device.pk)]


def test_device_ids_on_a_user_list_cost_one_query_per_page(world):
    residents = property_group(world.prop_a)
    for user in (world.alice, world.bob):
        device_provision(user)
    client = key_client("owner")
    url = f"/api/v1/properties/{world.prop_a.pk}/groups/{residents.pk}/users"
    ok(client.get(url))  # first call of the key: lastUsedAt and friends
    with CaptureQueriesContext(connection) as two:
        users = ok(client.get(url))["users"]
    assert all(len(u["deviceIds"]) == 1 for u in users)
    for _ in range(4):
        user = user_create()
        member_add(residents, user)
        device_provision(user)
        device_provision(user, display_name="Second phone")
    with CaptureQueriesContext(connection) as six:
        users = ok(client.get(url))["users"]
    assert len(users) == 6 and sorted(len(u["deviceIds"]) for u in users) == [1, 1, 2, 2, 2, 2]
    assert len([q for q in six.captured_queries if "devices_userdevice" in q["sql"]]) == 1
    assert len(six.captured_queries) == len(two.captured_queries)


# --- who may do what --------------------------------------------------------------------------

OPS = {
    "listUserDevices": ("get", False),
    "getUserDevice": ("get", True),
    "updateUserDevice": ("put", True),
    "deprovisionUserDevice": ("delete", True),
    "provisionUserDevice": ("post", False),
}
# The right caller per operation: Alice herself, or (not for provisioning) a manager of A.
RIGHT = dict.fromkeys(OPS, ("alice", "manager_a")) | {"provisionUserDevice": ("alice",)}


def _call(client, op, world, device):
    method, on_device = OPS[op]
    url = _devices_url(world.alice, device if on_device else None)
    body = {"updateUserDevice": {"displayName": "Renamed"}, "provisionUserDevice": Phone.generate().provision_body()}
    return getattr(client, method)(url, body.get(op), format="json")


@pytest.mark.parametrize("op", sorted(OPS))
@pytest.mark.parametrize("caller", ["anonymous", "no_permission", "manager_b", "bob", "alice", "manager_a"])
def test_scope_matrix(world, op, caller, request):
    device, _ = device_provision(world.alice)
    clients = {
        "anonymous": APIClient,
        "no_permission": lambda: key_client("manage-firmware"),
        "manager_b": lambda: request.getfixturevalue("manager_b"),
        "manager_a": lambda: request.getfixturevalue("manager_a"),
        "bob": lambda: person_client(world.bob),
        "alice": lambda: person_client(world.alice),
    }
    response = _call(clients[caller](), op, world, device)
    if caller == "anonymous":
        expected = 401
    elif caller == "no_permission":
        expected = 403
    elif caller in RIGHT[op]:
        expected = 200
    elif op == "provisionUserDevice" and caller.startswith("manager"):
        expected = 403  # only the person provisions their own phone (`me`)
    else:
        expected = 404  # another person's devices, or a manager of another property
    assert response.status_code == expected, (op, caller, response.content[:300])
    if expected != 200:
        assert response.json()["success"] is False


def test_private_part_is_hidden_from_support(world):
    device, _ = device_provision(world.alice)
    support = key_client(Grant("support", property_id=world.prop_a.pk))
    data = ok(support.get(_devices_url(world.alice, device)))
    assert "private" not in data and data["displayName"]


def test_a_device_under_another_users_path_is_404(world):
    device, _ = device_provision(world.bob)
    refused(person_client(world.alice).get(f"/api/v1/users/{world.alice.pk}/devices/{device.pk}"), 404)
    refused(key_client("owner").get(f"/api/v1/users/{world.alice.pk}/devices/{device.pk}"), 404)
