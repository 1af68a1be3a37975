"""Permission matrix for operations 41–45 (docs/API.md permission map, docs/FIRMWARE.md).

| caller           | what it is                                              |
|------------------|---------------------------------------------------------|
| `anonymous`      | no credential → 401                                     |
| `other_property` | `manage-firmware` + `support` scoped to property B      |
| `unrelated`      | `owner` + `install-lock` of A: may get/download, not upload/assign |
| `no_permission`  | `install-lock` only → 403 everywhere                    |
| `right`          | unscoped `manage-firmware` for upload; `manage-firmware` of A for the rest |
| `lock`           | the lock of A the version is required for (kind `lock`) |

Firmware versions belong to no property, so get/download are not object-scoped: B's key reads
them but sees none of A's scopes. Assign/unassign at A's property are object-scoped: 404 for
B's key. Every refused call leaves no Event.
"""

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from rest_framework.test import APIClient

from apps.core.actors import SYSTEM
from apps.core.principal import Grant, Principal
from apps.events.models import Event
from apps.firmware import services
from apps.firmware.models import FirmwareVersion
from apps.locks import services as lock_services
from tests.factories import directory as d
from tests.firmware.conftest import firmware_upload

pytestmark = pytest.mark.django_db

OPS = (
    "uploadFirmwareVersion",
    "getFirmwareVersion",
    "downloadFirmwareVersion",
    "assignFirmwareVersion",
    "unassignFirmwareVersion",
)
CALLERS = ("anonymous", "other_property", "no_permission", "unrelated", "right", "lock")

EXPECTED = {
    #                          anon other nope unrel right lock
    "uploadFirmwareVersion": (401, 403, 403, 403, 200, 403),
    "getFirmwareVersion": (401, 200, 403, 200, 200, 200),
    "downloadFirmwareVersion": (401, 200, 403, 200, 200, 200),
    "assignFirmwareVersion": (401, 404, 403, 403, 200, 403),
    "unassignFirmwareVersion": (401, 404, 403, 403, 200, 403),
}


@pytest.fixture
def world(client_for):
    a, b = d.property_create(display_name="A"), d.property_create(display_name="B")
    lock = lock_services.lock_create(display_name="Door of A", prop=a, actor=SYSTEM)
    version = firmware_upload("1.0", b"firmware one")
    services.firmware_assign(firmware_version=version, scope="property", prop=a, actor=SYSTEM)

    def key(*grants):
        return client_for(*grants)[0]

    lock_client = APIClient()
    lock_client.force_authenticate(Principal(kind="lock", id=lock.pk, grants=(Grant("lock"),), label="lock"))
    return {
        "a": a,
        "clients": {
            "anonymous": APIClient(),
            "other_property": key(Grant("manage-firmware", property_id=b.pk), Grant("support", property_id=b.pk)),
            "no_permission": key("install-lock"),
            "unrelated": key(Grant("owner", property_id=a.pk), Grant("install-lock", property_id=a.pk)),
            "right_global": key("manage-firmware"),
            "right": key(Grant("manage-firmware", property_id=a.pk)),
            "lock": lock_client,
        },
    }


def call(world, op, caller):
    clients = world["clients"]
    if op == "uploadFirmwareVersion" and caller == "right":
        caller = "right_global"
    client, a = clients[caller], world["a"]
    if op == "uploadFirmwareVersion":
        image = SimpleUploadedFile("x.bin", b"firmware two")
        return client.post("/api/v1/firmware/2.0/upload", {"firmware": image}, format="multipart")
    if op == "getFirmwareVersion":
        return client.get("/api/v1/firmware/1.0")
    if op == "downloadFirmwareVersion":
        return client.get("/api/v1/firmware/1.0/download")
    if op == "assignFirmwareVersion":
        return client.put(f"/api/v1/firmware/1.0/assign?scope=property&propertyId={a.pk}")
    return client.put(f"/api/v1/firmware/unassign?scope=property&propertyId={a.pk}")


@pytest.mark.parametrize("caller", CALLERS)
@pytest.mark.parametrize("op", OPS)
def test_matrix(world, op, caller):
    events_before = Event.objects.count()
    response = call(world, op, caller)
    expected = EXPECTED[op][CALLERS.index(caller)]
    assert response.status_code == expected, (op, caller, response.status_code, getattr(response, "content", b"")[:300])
    if expected >= 400:
        body = d.refused(response, expected)
        if expected == 404:  # exactly the 404 of a property that does not exist
            missing = "00000000-0000-7000-8000-000000000000"
            url = (
                response.request["PATH_INFO"]
                + "?"
                + response.request["QUERY_STRING"].replace(str(world["a"].pk), missing)
            )
            assert world["clients"][caller].put(url).json() == body
        assert Event.objects.count() == events_before
    elif op == "downloadFirmwareVersion":
        assert b"".join(response.streaming_content) == b"firmware one"
    elif op == "getFirmwareVersion":
        scopes = d.ok(response)["scopes"]
        assert scopes == (
            []
            if caller == "other_property"
            else [{"scope": "property", "lockId": None, "propertyId": str(world["a"].pk), "areaId": None}]
        )
    elif op == "uploadFirmwareVersion":
        assert FirmwareVersion.objects.filter(version="2.0").exists()


def test_matrix_covers_exactly_operations_41_to_45():
    from apps.core.operations import OPERATIONS

    ids = list(OPERATIONS)
    assert tuple(ids[ids.index("uploadFirmwareVersion") : ids.index("unassignFirmwareVersion") + 1]) == OPS
