"""The OpenAPI document lists what the signed answers really carry next to success/error/data:
`signatures` on SignedLockOutput, SignedLockSyncOutput (+ `keyMap`) and UserDeviceSyncOutput
(`@operation(..., envelope_extra=...)`, apps/core/api/schema.py), and the answers match it."""

import pytest
import yaml
from django.core.management import call_command
from drf_spectacular.generators import SchemaGenerator

from apps.core.api.permissions import operation
from apps.core.api.views import ApiView
from tests.locks.conftest import settle
from tests.locks.reference_lock import SYNC_REQUEST, sign

SIGNED_LOCK_OPERATIONS = ("provisionLock", "getLock", "updateLock", "installLock", "uninstallLock")


@pytest.fixture(scope="module")
def schema(tmp_path_factory):
    out = tmp_path_factory.mktemp("schema") / "openapi.yaml"
    call_command("spectacular", "--fail-on-warn", "--validate", "--file", str(out))
    return yaml.safe_load(out.read_text())


def _ok_envelope(schema, operation_id: str) -> tuple[str, dict]:
    for item in schema["paths"].values():
        for op in item.values():
            if op["operationId"] == operation_id:
                ref = op["responses"]["200"]["content"]["application/json"]["schema"]["$ref"]
                name = ref.rsplit("/", 1)[-1]
                return name, schema["components"]["schemas"][name]
    raise AssertionError(f"{operation_id} is not in the schema")


def _assert_signatures(envelope: dict) -> None:
    signatures = envelope["properties"]["signatures"]
    assert signatures["type"] == "object"
    assert signatures["additionalProperties"] == {"type": "string"}
    assert "signatures" in envelope["required"]


@pytest.mark.parametrize("operation_id", SIGNED_LOCK_OPERATIONS)
def test_signed_lock_outputs_list_signatures(schema, operation_id):
    name, envelope = _ok_envelope(schema, operation_id)
    assert name == "SignedLockOutput"
    assert set(envelope["properties"]) == {"success", "error", "data", "signatures", "eventIds"}
    assert envelope["properties"]["success"] == {"type": "boolean"}
    _assert_signatures(envelope)


def test_sync_lock_lists_signatures_and_the_nullable_signed_key_map(schema):
    name, envelope = _ok_envelope(schema, "syncLock")
    assert name == "SignedLockSyncOutput"
    assert set(envelope["properties"]) == {"success", "error", "data", "signatures", "keyMap", "eventIds"}
    assert set(envelope["required"]) == {"success", "error", "data", "signatures", "keyMap"}
    _assert_signatures(envelope)
    key_map = envelope["properties"]["keyMap"]
    assert key_map["type"] == "object" and key_map["nullable"] is True
    assert set(key_map["required"]) == {"payload", "signatures"}
    assert key_map["properties"]["payload"]["type"] == "object"
    assert key_map["properties"]["signatures"]["additionalProperties"] == {"type": "string"}
    assert envelope["properties"]["data"]["$ref"].endswith("/SignedLockSyncOutput_data")


def test_sync_user_device_lists_signatures(schema):
    name, envelope = _ok_envelope(schema, "syncUserDevice")
    assert name == "UserDeviceSyncOutput"
    assert set(envelope["properties"]) == {"success", "error", "data", "signatures", "eventIds"}
    _assert_signatures(envelope)


def test_unsigned_outputs_keep_the_plain_envelope(schema):
    for operation_id in ("listLocks", "deprovisionLock", "listLockAccessLogs", "listUserDevices", "getUserDevice"):
        _, envelope = _ok_envelope(schema, operation_id)
        assert set(envelope["properties"]) == {"success", "error", "data", "eventIds"}, operation_id
        assert set(envelope["required"]) == {"success", "error", "data"}, operation_id


def test_answers_carry_exactly_the_documented_members(schema, world):
    """What the schema promises is what a sync sends: every documented member, nothing else."""
    settle()
    body = world.sync().json()
    _, envelope = _ok_envelope(schema, "syncLock")
    assert set(body) == set(envelope["properties"])
    response = world.manager.get(f"/api/v1/locks/{world.lock.lock_id}")
    _, envelope = _ok_envelope(schema, "getLock")
    assert set(response.json()) == set(envelope["properties"]) - {"eventIds"}  # a read: no eventIds


def test_two_operations_sharing_an_envelope_must_declare_the_same_members():
    """A second operation naming SignedLockOutput without `signatures` is a schema warning
    (an error under --fail-on-warn), not a silently wrong component."""
    from django.urls import path
    from drf_spectacular.drainage import GENERATOR_STATS

    from apps.locks.api import LockDetailApi

    class Unsigned(ApiView):
        @operation("getLock", envelope="SignedLockOutput")
        def get(self, request, lockId):
            raise NotImplementedError

    patterns = [
        path("api/v1/locks/<uuid:lockId>", LockDetailApi.as_view()),
        path("api/v1/unsigned/<uuid:lockId>", Unsigned.as_view()),
    ]
    GENERATOR_STATS.reset()
    try:
        with GENERATOR_STATS.silence():
            SchemaGenerator(patterns=patterns).get_schema(request=None, public=True)
        warnings = list(GENERATOR_STATS._warn_cache)
    finally:
        GENERATOR_STATS.reset()
    assert any("envelope SignedLockOutput is declared with different members" in w for w in warnings), warnings


SYNC_REQUIRED = {
    "lockId",
    "syncSequence",
    "syncDate",
    "currentKeyMapVersion",
    "currentFirmwareVersion",
    "encryptedAccessLogs",
    "nonce",
    "signatures",
}


def test_the_sync_request_s_required_members_are_those_of_the_protocol(schema, world):
    """PROTOCOL.md §6.4 "Required": all but `accessLogsKid`, `ack` and protocol 1.1's
    `batteryLevel` / `doorState` (§6.4.1), in the schema and on the server: a signed sync
    without the optional ones is accepted, one without `nonce` is refused."""
    for item in schema["paths"].values():
        for op in item.values():
            if op["operationId"] == "syncLock":
                ref = op["requestBody"]["content"]["application/json"]["schema"]["$ref"]
    component = schema["components"]["schemas"][ref.rsplit("/", 1)[-1]]
    assert set(component["required"]) == SYNC_REQUIRED
    assert set(component["properties"]) == SYNC_REQUIRED | {"accessLogsKid", "ack", "batteryLevel", "doorState"}

    settle()
    lean = world.lock.sync_body()
    lean.pop("signatures")
    lean.pop("accessLogsKid", None)
    lean.pop("ack", None)
    url = f"/api/v1/locks/{world.lock.lock_id}/sync"
    body = {**lean, "signatures": sign(world.lock.signing_key, lean, SYNC_REQUEST)}
    assert world.lock_api.put(url, body, format="json").status_code == 200
    world.lock.sync_sequence += 1
    bare = world.lock.sync_body()
    bare.pop("signatures")
    bare.pop("nonce")
    bare = {**bare, "signatures": sign(world.lock.signing_key, bare, SYNC_REQUEST)}
    refused = world.lock_api.put(url, bare, format="json").json()
    assert refused["success"] is False and "nonce" in refused["data"]["fields"]
