"""Every answer of the protocol flow (provision, install, getLock, syncLock, access logs,
acknowledgements, the phone's sync) validates against the OpenAPI schema, strictly: a member
the server sends that the schema lacks fails (additionalProperties false is imposed on every
object without its own), so the schema cannot drift from what is signed and returned."""

import copy

import jsonschema
import pytest
from drf_spectacular.generators import SchemaGenerator

from apps.events.models import Event
from tests.devices.conftest import PASSWORD, person_client
from tests.devices.phone import Phone as DevicePhone
from tests.factories import directory as d
from tests.locks.conftest import Phone, ok_signed, settle

pytestmark = pytest.mark.django_db


@pytest.fixture(scope="module")
def openapi():
    return SchemaGenerator().get_schema(request=None, public=True)


def _strict(node):
    """OpenAPI 3.0 → JSON Schema: `nullable` as a null type, closed objects."""
    if isinstance(node, dict):
        node = {k: _strict(v) for k, v in node.items()}
        if node.pop("nullable", False):
            node = {"anyOf": [node, {"type": "null"}]}
            return node
        if node.get("type") == "object" and "properties" in node and "additionalProperties" not in node:
            node["additionalProperties"] = False
        return node
    if isinstance(node, list):
        return [_strict(v) for v in node]
    return node


def _check(openapi, operation_id: str, response) -> None:
    assert response.status_code == 200, (operation_id, response.content[:300])
    for item in openapi["paths"].values():
        for op in item.values():
            if isinstance(op, dict) and op.get("operationId") == operation_id:
                code = str(response.status_code) if str(response.status_code) in op["responses"] else "200"
                schema = op["responses"][code]["content"]["application/json"]["schema"]
                document = _strict(copy.deepcopy({"components": openapi["components"], **schema}))
                document["components"] = _strict(openapi["components"])
                jsonschema.validate(response.json(), document)
                return
    raise AssertionError(f"{operation_id} is not in the schema")


def test_the_protocol_flow_answers_exactly_what_the_schema_says(openapi, world):
    check = lambda op, r: _check(openapi, op, r)  # noqa: E731
    lock = world.lock
    check("getLock", world.manager.get(f"/api/v1/locks/{lock.lock_id}"))
    check("getLock", world.lock_api.get(f"/api/v1/locks/{lock.lock_id}"))
    check("listLocks", world.manager.get("/api/v1/locks"))
    phone = Phone.provision(world.alice)
    member_url = f"/api/v1/properties/{world.prop.pk}/groups/{world.residents.pk}/users/{world.alice.pk}"
    d.member_add(world.residents, world.alice)
    settle()
    check("syncLock", world.sync())
    check("syncLock", world.sync())
    lock.unlock(phone.proof(lock.challenge(), at=lock.now()))
    lock.unlock({"payload": {}, "signatures": {}})
    check("syncLock", world.sync())
    check("listLockAccessLogs", world.manager.get(f"/api/v1/locks/{lock.lock_id}/logs"))
    event = Event.objects.filter(event_name="group.member_added").first()
    check("getEventAcknowledgements", world.manager.get(f"/api/v1/events/{event.pk}/acknowledgements"))
    check("removeUserFromUserGroup", world.manager.delete(member_url))
    response = world.manager.put(f"/api/v1/locks/{lock.lock_id}/uninstall?uninstallMode=area", format="json")
    ok_signed(response)
    check("uninstallLock", response)


def test_the_phone_flow_answers_exactly_what_the_schema_says(openapi, world, fast_password_hashing):
    """The phone's side: provision, get, list, a sync that delivers the sealed map, and a
    no-change sync that renews it (PROTOCOL.md §7)."""
    check = lambda op, r: _check(openapi, op, r)  # noqa: E731
    world.alice.set_password(PASSWORD)
    world.alice.save(update_fields=["password"])
    d.member_add(world.residents, world.alice)
    settle()
    person = person_client(world.alice)
    phone = DevicePhone.generate()
    devices = f"/api/v1/users/{world.alice.pk}/devices"
    response = person.post(devices, phone.provision_body(), format="json")
    check("provisionUserDevice", response)
    phone.user_id, phone.user_device_id = str(world.alice.pk), response.json()["data"]["userDeviceId"]
    check("getUserDevice", person.get(f"{devices}/{phone.user_device_id}"))
    check("listUserDevices", person.get(devices))
    sync_url = f"{devices}/{phone.user_device_id}/sync"
    first = person.put(sync_url, phone.sync_body(), format="json")
    check("syncUserDevice", first)
    assert phone.receive(first.json()) is not None, "the first sync delivers the sealed map"
    again = person.put(sync_url, phone.sync_body(), format="json")
    check("syncUserDevice", again)
    assert again.json()["data"]["encryptedUserAccessMapEntries"] is None  # a renewal
