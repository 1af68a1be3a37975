"""Issue 20: a lock provisioned with a weak key (the all-zero key, another small-order point, a
non-canonical, off-curve or mixed-order one) could sync with a "signature" made without any
private key. Such keys are refused at provisioning, and a signature by one is refused at sync
even if the key is already in the database (PROTOCOL.md §2.4)."""

import pytest

from apps.core.principal import Grant
from apps.keys import crypto
from apps.keys.choices import KeyKeyMode, KeyOwnerType
from apps.keys.models import Key
from apps.locks.models import Lock
from tests.factories import directory as d
from tests.factories.accounts import key_client
from tests.keys import points as pt
from tests.keys.conftest import vectors
from tests.locks.reference_lock import SYNC_REQUEST, UNLOCK_PROOF, ReferenceLock, b64url, kid_of, signing_input
from tests.locks.test_sync import _state

pytestmark = pytest.mark.django_db

WEAK = vectors("weak_keys.json")["refusedKeys"]
PROVISION_CASES = [("lockKey", c) for c in WEAK if c["algorithm"] == crypto.ED25519] + [
    ("lockSealKey", c) for c in WEAK if c["algorithm"] == crypto.X25519
]


@pytest.fixture
def installer():
    prop = d.property_create()
    return prop, key_client(Grant("provision-lock", property_id=prop.pk))


@pytest.mark.parametrize(("field", "case"), PROVISION_CASES, ids=lambda v: v if isinstance(v, str) else v["name"])
def test_provisioning_with_a_weak_key_is_refused_naming_the_member(installer, field, case):
    prop, client = installer
    body = {**ReferenceLock().provision_body(propertyId=str(prop.pk)), field: case["publicKey"]}
    refused = d.refused(client.post("/api/v1/locks", body, format="json"), 400)
    assert list(refused["data"]["fields"]) == [field] and "weak point" in refused["error"]
    assert not Lock.objects.exists() and not Key.objects.filter(owner_type=KeyOwnerType.LOCK).exists()


def _forged_sync(world, public: bytes, candidates: list[bytes]) -> dict:
    """A sync body "signed" without a private key: the first one (new sequence and nonce each
    try) whose candidate signature satisfies the cofactorless equation, as OpenSSL checks it."""
    for _ in range(200):
        payload = {k: v for k, v in world.lock.sync_body().items() if k != "signatures"}
        for signature in candidates:
            if pt.cofactorless_verify(public, signing_input(payload, SYNC_REQUEST), signature):
                return {**payload, "signatures": {kid_of("Ed25519", public): b64url(signature)}}
    raise AssertionError("no forgery found")


def test_the_reported_attack_stops_at_provisioning(world):
    """The report: provision with the zero key, then sync "signed" with 64 zero bytes."""
    attacker = ReferenceLock()
    body = {**attacker.provision_body(propertyId=str(world.prop.pk)), "lockKey": b64url(bytes(32))}
    response = world.manager.post("/api/v1/locks", body, format="json")
    assert response.status_code == 400, "the zero key was provisioned: issue 20 is back"
    assert list(d.refused(response, 400)["data"]["fields"]) == ["lockKey"]


ZERO, IDENTITY = bytes(32), pt.encode(pt.IDENTITY)
FORGERIES = {
    "zero-key-zero-signature": (ZERO, [bytes(64)]),  # the report: accepted one try in four before
    "identity-key-identity-r": (IDENTITY, [IDENTITY + bytes(32)]),  # accepted for every message before
    "order-8-key-small-order-r": (pt.encode(pt.torsion()[1]), [pt.encode(t) + bytes(32) for t in pt.torsion()]),
}


@pytest.mark.parametrize("name", FORGERIES)
def test_a_weak_lock_key_already_stored_signs_nothing(world, name):
    """Defence in depth: a weak lockKey written straight to the database (say, registered before
    the fix) gets the normal invalid-signature answer, and the sync changes nothing."""
    public, candidates = FORGERIES[name]
    updated = Key.objects.filter(
        owner_type=KeyOwnerType.LOCK, owner_id=world.lock.lock_id, key_mode=KeyKeyMode.SIGN_VERIFY
    ).update(public_key=public, kid=crypto.key_id(crypto.ED25519, public))
    assert updated == 1
    before = _state(world.lock.lock_id)
    body = _forged_sync(world, public, candidates)
    response = world.lock_api.put(f"/api/v1/locks/{world.lock.lock_id}/sync", body, format="json")
    refused = d.refused(response, 401)
    assert refused["data"]["fields"] == {
        "signatures": ["not signed by this lock's lockKey (missing, bad, or another key's signature)"]
    }
    assert _state(world.lock.lock_id) == before


def test_the_lock_refuses_an_unlock_proof_under_a_weak_key(world):
    """§2.4 on the lock: a key-map entry whose key is the zero key (say, a phone registered
    before the fix) admits nobody, though a proof "signed" with 64 zero bytes satisfies the
    cofactorless equation for one challenge in four."""
    assert world.sync().status_code == 200 and world.lock.key_map is not None
    zero = bytes(32)
    blank = ("accessKeyId", "userId", "userDeviceId", "userGroupId", "schedule", "validFrom", "validUntil")
    entry = {"kid": kid_of("Ed25519", zero), "publicKey": b64url(zero), **dict.fromkeys(blank)}
    world.lock.key_map["entries"].append(entry)
    for _ in range(200):
        challenge = world.lock.challenge()
        payload = {"at": world.lock.now(), **challenge}
        if pt.cofactorless_verify(zero, signing_input(payload, UNLOCK_PROOF), bytes(64)):
            break
    else:
        raise AssertionError("no forgery found")
    proof = {"payload": payload, "signatures": {kid_of("Ed25519", zero): b64url(bytes(64))}}
    assert world.lock.unlock(proof) == (False, "bad-signature")
