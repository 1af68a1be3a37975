"""Issue 20 for phones: weak device keys (PROTOCOL.md §2.4) are refused at provisioning; a weak
deviceSyncKey already in the database signs nothing; and a weak X25519 key already in the
database makes the sync a 409 that says so (it was an unhandled seal error, a 500)."""

import pytest

from apps.devices.models import UserDevice
from apps.keys import canonical, crypto
from apps.keys.models import Key
from tests.devices.conftest import PASSWORD, person_client
from tests.devices.factories import device_provision
from tests.devices.phone import SYNC_REQUEST, Phone
from tests.devices.test_sync import _state, _sync
from tests.factories import directory as d
from tests.keys import points as pt
from tests.keys.conftest import vectors

pytestmark = pytest.mark.django_db

WEAK = vectors("weak_keys.json")["refusedKeys"]
ED25519_WEAK = [c for c in WEAK if c["algorithm"] == crypto.ED25519]
X25519_WEAK = [c for c in WEAK if c["algorithm"] == crypto.X25519]
PROVISION_CASES = [
    *(("deviceAccessPublicKey", c) for c in ED25519_WEAK),
    *(("deviceSyncPublicKey", c) for c in ED25519_WEAK),
    *(("deviceSyncEncryptionPublicKey", c) for c in X25519_WEAK),
]


@pytest.fixture
def alice():
    return d.user_create(password=PASSWORD)


@pytest.fixture
def alice_phone(alice):
    device, phone = device_provision(alice)
    return device, phone, person_client(alice)


def _ids(value):
    return value if isinstance(value, str) else value["name"]


@pytest.mark.parametrize(("member", "case"), PROVISION_CASES, ids=_ids)
def test_provisioning_with_a_weak_key_is_refused_naming_the_member(alice, member, case):
    body = {**Phone.generate().provision_body(), member: case["publicKey"]}
    refused = d.refused(person_client(alice).post(f"/api/v1/users/{alice.pk}/devices", body, format="json"), 400)
    assert list(refused["data"]["fields"]) == [member] and "weak point" in refused["error"]
    assert not UserDevice.objects.exists() and not Key.objects.exists()


def test_a_weak_sync_key_already_stored_signs_nothing(alice_phone):
    """The report for phones: a deviceSyncKey of 32 zero bytes, and a deviceSignature of 64
    zero bytes that the cofactorless equation accepts for this body (one try in four)."""
    device, phone, client = alice_phone
    Key.objects.filter(pk=device.sync_key_id).update(public_key=bytes(32), kid=crypto.key_id(crypto.ED25519, bytes(32)))
    before = _state(device)
    for _ in range(200):
        body = phone.sync_body()
        payload = {k: v for k, v in body.items() if k != "deviceSignature"}
        if pt.cofactorless_verify(bytes(32), canonical.signing_input(payload, SYNC_REQUEST), bytes(64)):
            break
    else:
        raise AssertionError("no forgery found")
    refused = d.refused(_sync(client, phone, {**payload, "deviceSignature": crypto.b64url_encode(bytes(64))}), 401)
    assert list(refused["data"]["fields"]) == ["deviceSignature"]
    assert _state(device) == before


@pytest.mark.parametrize("case", X25519_WEAK, ids=_ids)
def test_a_weak_encryption_key_already_stored_is_a_409_that_changes_nothing(alice_phone, case):
    device, phone, client = alice_phone
    weak = bytes.fromhex(case["publicKeyHex"])
    Key.objects.filter(pk=device.seal_key_id).update(public_key=weak, kid=crypto.key_id(crypto.X25519, weak))
    before = _state(device)
    refused = d.refused(_sync(client, phone), 409)
    assert refused["data"]["fields"] == {
        "deviceSyncEncryptionPublicKey": [
            "the X25519 key this device was provisioned with cannot be sealed to (a weak key): "
            "deprovision the device and provision it again with new keys"
        ]
    }
    assert _state(device) == before
