"""Offline revocation, end to end: provision → install → a resident with a phone → the worker
signs the key map → the lock syncs → the phone opens the lock offline → access is taken away
(six ways) → the lock syncs → the same phone is refused. The lock is the reference lock of
tests/locks/reference_lock.py, written from docs/PROTOCOL.md alone."""

from datetime import timedelta

import pytest
from django.utils import timezone

from apps.access import services as access_services
from apps.core.actors import SYSTEM
from apps.devices import services as device_services
from apps.locks.models import Lock
from tests.factories import directory as d
from tests.locks.conftest import Phone, settle

pytestmark = pytest.mark.django_db


def _open(world, phone) -> tuple[bool, str]:
    lock = world.lock
    return lock.unlock(phone.proof(lock.challenge(), at=lock.now()))


def _resident_with_phone(world):
    phone = Phone.provision(world.alice)
    d.member_add(world.residents, world.alice)
    settle()
    assert world.sync().status_code == 200
    assert phone.access.kid in {e["kid"] for e in world.lock.key_map["entries"]}
    assert _open(world, phone) == (True, "unlock")
    return phone


def _remove_member(world, phone):
    access_services.membership_remove(group=world.residents, user=world.alice, actor=SYSTEM)


def _block(world, phone):
    access_services.block_create(prop=world.prop, user=world.alice, actor=SYSTEM, reason="test")


def _deprovision_device(world, phone):
    device_services.user_device_deprovision(device=phone.device, actor=SYSTEM)


def _delete_user(world, phone):
    access_services.user_delete(user=world.alice, actor=SYSTEM)


@pytest.mark.parametrize(
    "revoke, reason_after",
    [
        (_remove_member, "unknown-key"),
        (_block, "denied-key"),
        (_deprovision_device, "unknown-key"),
        (_delete_user, "unknown-key"),
    ],
    ids=["removed-from-group", "blocked", "device-deprovisioned", "user-deleted"],
)
def test_revoked_phone_is_refused_after_the_next_lock_sync(world, revoke, reason_after):
    phone = _resident_with_phone(world)
    version = world.lock.key_map["keyMapVersion"]

    revoke(world, phone)
    settle()
    # Offline, the lock still holds the old map: the proof still opens (bounded by notAfter).
    assert _open(world, phone) == (True, "unlock")
    assert world.sync().status_code == 200

    assert world.lock.key_map["keyMapVersion"] > version
    assert phone.access.kid not in {e["kid"] for e in world.lock.key_map["entries"]}
    assert _open(world, phone) == (False, reason_after)
    if reason_after == "denied-key":
        assert world.lock.key_map["deniedKids"] == [phone.access.kid]


def test_a_grant_that_expires_is_refused_offline_before_any_sync_and_dropped_after(world):
    phone = Phone.provision(world.alice)
    lock = Lock.objects.get(pk=world.lock.lock_id)
    until = timezone.now() + timedelta(hours=2)
    access_services.grant_create(
        prop=world.prop, user=world.alice, lock=lock, access_level="GUEST", valid_until=until, actor=SYSTEM
    )
    settle()
    world.sync()
    entry = next(e for e in world.lock.key_map["entries"] if e["kid"] == phone.access.kid)
    assert entry["userGroupId"] is None and entry["validUntil"] == int(until.timestamp())
    assert _open(world, phone) == (True, "unlock")

    world.lock.clock_offset += 3 * 3600  # offline, three hours later: the lock's own clock decides
    assert _open(world, phone) == (False, "expired")

    world.lock.clock_offset -= 3 * 3600
    access_services.grants_expire(now=until + timedelta(seconds=1))
    settle()
    world.sync()
    assert phone.access.kid not in {e["kid"] for e in world.lock.key_map["entries"]}


def test_a_revoked_grant_is_refused_after_sync(world):
    phone = Phone.provision(world.alice)
    lock = Lock.objects.get(pk=world.lock.lock_id)
    grant = access_services.grant_create(
        prop=world.prop, user=world.alice, lock=lock, access_level="USER", actor=SYSTEM
    )
    settle()
    world.sync()
    assert _open(world, phone) == (True, "unlock")

    access_services.grant_revoke(grant=grant, actor=SYSTEM)
    settle()
    world.sync()
    assert _open(world, phone) == (False, "unknown-key")


def test_the_key_map_expires_offline_when_the_lock_cannot_sync(world):
    phone = _resident_with_phone(world)
    world.lock.clock_offset += world.lock.key_map["notAfter"] - world.lock.now()
    assert _open(world, phone) == (False, "key-map-expired")


def test_a_recorded_proof_cannot_be_replayed_and_a_proof_binds_its_lock(world):
    phone = _resident_with_phone(world)
    lock = world.lock
    proof = phone.proof(lock.challenge(), at=lock.now())
    assert lock.unlock(proof) == (True, "unlock")
    assert lock.unlock(proof) == (False, "bad-nonce")  # the nonce was used
    stranger = phone.proof({"lockId": str(world.unit.pk), "nonce": lock.challenge()["nonce"]}, at=lock.now())
    assert lock.unlock(stranger) == (False, "wrong-lock")
    late = lock.challenge()
    lock.clock_offset += 31
    assert lock.unlock(phone.proof(late, at=lock.now())) == (False, "bad-nonce")
    assert lock.unlock(phone.proof(lock.challenge(), at=lock.now() - 600)) == (False, "clock-skew")


def test_a_forged_proof_is_refused_and_logged_as_a_signature_failure(world):
    from apps.keys import crypto

    phone = _resident_with_phone(world)
    lock = world.lock
    forged = phone.proof(lock.challenge(), at=lock.now())
    forged["signatures"] = {phone.access.kid: crypto.b64url_encode(bytes(64))}
    assert lock.unlock(forged) == (False, "bad-signature")
    stranger = Phone(access=crypto.generate(crypto.ED25519))
    assert lock.unlock(stranger.proof(lock.challenge(), at=lock.now())) == (False, "unknown-key")
    assert lock.logs[-2]["deviceSignatureFailure"] is True
