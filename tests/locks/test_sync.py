"""syncLock: the happy path, the signature count, and every attack of issue 6 — each one a
clear error that changes nothing (PROTOCOL.md §6.4–§6.6, §8, §9)."""

import json

import pytest

from apps.events.models import Event
from apps.keys import crypto
from apps.locks.models import Lock, LockAccessLog, LockAccessLogGap, LockAck, SignedKeyMap
from tests.factories import directory as d
from tests.locks.conftest import Phone, lock_client, ok_signed, settle
from tests.locks.reference_lock import ReferenceLock, b64url, iso, jcs, raw_public, seal, sign

pytestmark = pytest.mark.django_db


def _state(lock_id) -> tuple:
    lock = Lock.objects.get(pk=lock_id)
    return (
        lock.last_sync_sequence,
        lock.reported_key_map_version,
        lock.applied_key_map_version,
        lock.current_firmware_version,
        lock.last_known_sync_date,
        lock.access_log_high_sequence,
        LockAccessLog.objects.filter(lock_id=lock_id).count(),
        LockAccessLogGap.objects.filter(lock_id=lock_id).count(),
        LockAck.objects.filter(lock_id=lock_id).count(),
        Event.objects.filter(lock_id=lock_id).count(),
    )


def _put(world, body):
    return world.lock_api.put(f"/api/v1/locks/{world.lock.lock_id}/sync", body, format="json")


def _refused(response, status: int, field: str) -> dict:
    body = d.refused(response, status)
    assert field in body["error"], body["error"]
    return body


@pytest.fixture
def synced(world):
    """A resident with a phone, the lock holding a map that lists the phone."""
    phone = Phone.provision(world.alice)
    d.member_add(world.residents, world.alice)
    settle()
    assert world.sync().status_code == 200
    assert world.sync().status_code == 200  # delivers the ack of the map applied above
    return world, phone


def test_only_a_signature_failure_carries_device_signature(synced):
    """PROTOCOL.md §6.5: `deviceSignature` is the failed signature of a `bad-signature` denial,
    for the record; a granted log never carries one (the lock verified the proof), and one sent
    anyway is not stored. listLockAccessLogs answers null where there is none."""
    world, phone = synced
    world.lock.unlock(phone.proof(world.lock.challenge(), at=world.lock.now()))
    world.lock.logs[-1]["deviceSignature"] = b64url(bytes(64))  # a lock that sends one anyway
    forged = phone.proof(world.lock.challenge(), at=world.lock.now())
    forged["signatures"] = {phone.access.kid: b64url(bytes(64))}
    assert world.lock.unlock(forged) == (False, "bad-signature")
    ok_signed(world.sync())
    logs = d.ok(world.manager.get(f"/api/v1/locks/{world.lock.lock_id}/logs"))["accessLogs"]
    by_result = {log["result"]: log for log in logs}
    assert by_result["granted"]["deviceSignature"] is None and by_result["granted"]["deviceSignatureFailure"] is False
    assert by_result["denied"]["deviceSignature"] == b64url(bytes(64)) and by_result["denied"]["deviceSignatureFailure"]


def test_a_sync_stores_versions_logs_and_the_ack_and_answers_signed(synced):
    world, phone = synced
    lock = Lock.objects.get(pk=world.lock.lock_id)
    assert lock.applied_key_map_version == lock.signed_key_map_version == world.lock.key_map["keyMapVersion"]
    assert lock.reported_key_map_version == lock.signed_key_map_version
    assert lock.current_firmware_version == "1.0.0" and lock.last_known_sync_date is not None
    ack = LockAck.objects.get(lock=lock, version=lock.signed_key_map_version)
    assert ack.payload["keyMapDigest"] == SignedKeyMap.objects.get(lock=lock, version=ack.version).payload_digest

    world.lock.unlock(phone.proof(world.lock.challenge(), at=world.lock.now()))
    world.lock.unlock({"payload": {}, "signatures": {}})
    response = world.sync()
    data = ok_signed(response)
    assert data["accessLogs"] == {"stored": 2, "duplicates": 0, "highestSequence": 2, "missing": []}
    assert data["keyMapDigest"] is None and response.json()["keyMap"] is None
    granted, malformed = LockAccessLog.objects.filter(lock=lock).order_by("sequence")
    assert (granted.result, granted.reason, granted.user_id, granted.user_device_id) == (
        "granted",
        "unlock",
        world.alice.pk,
        phone.device.pk,
    )
    assert granted.access_key_id == phone.device.access_key_id
    assert granted.user_group_id == world.residents.pk
    assert (malformed.result, malformed.reason, malformed.user_id) == ("denied", "malformed", None)
    assert world.lock.logs == []  # delivered logs are dropped by the lock


def test_a_sync_that_delivers_a_key_map_makes_exactly_one_signature(synced, monkeypatch):
    world, _phone = synced
    bob = d.user_create(display_name="Bob")
    Phone.provision(bob)
    d.member_add(world.residents, bob)
    settle()
    lock = Lock.objects.get(pk=world.lock.lock_id)
    assert lock.signed_key_map_version > world.lock.key_map["keyMapVersion"]
    stored = SignedKeyMap.objects.get(lock=lock, version=lock.signed_key_map_version)

    calls = []
    real_sign = crypto.sign
    monkeypatch.setattr(
        crypto, "sign", lambda private, message: calls.append(message[:40]) or real_sign(private, message)
    )
    response = world.sync()
    assert response.json()["keyMap"]["signatures"] == stored.signatures  # signed once, by the worker
    assert len(calls) == 1 and calls[0].startswith(b"keyhouse/lock-sync-response/v1\n")
    calls.clear()
    world.sync()
    assert len(calls) == 1


def test_missing_or_bad_signatures_change_nothing(synced):
    world, _ = synced
    before = _state(world.lock.lock_id)
    body = world.lock.sync_body()
    del body["signatures"]
    _refused(_put(world, body), 400, "signatures")
    body = world.lock.sync_body()
    body["signatures"] = {world.lock.kid: b64url(bytes(64))}
    _refused(_put(world, body), 401, "signatures")
    body = world.lock.sync_body()
    body["currentFirmwareVersion"] = "6.6.6"  # changed after signing
    _refused(_put(world, body), 401, "signatures")
    assert _state(world.lock.lock_id) == before


def test_a_request_signed_by_another_locks_key_is_refused(synced):
    world, _ = synced
    before = _state(world.lock.lock_id)
    other = ReferenceLock()
    response = world.manager.post("/api/v1/locks", other.provision_body(propertyId=str(world.prop.pk)), format="json")
    other.apply_command(response.json())
    payload = {k: v for k, v in world.lock.sync_body().items() if k != "signatures"}
    body = {**payload, "signatures": sign(other.signing_key, payload, "keyhouse/lock-sync-request/v1")}
    _refused(_put(world, body), 401, "signatures")
    # and the other lock's own secret cannot reach this lock at all
    response = lock_client(other).put(f"/api/v1/locks/{world.lock.lock_id}/sync", body, format="json")
    d.refused(response, 404)
    assert _state(world.lock.lock_id) == before


def test_a_replayed_sync_is_refused(synced):
    world, _ = synced
    body = world.lock.sync_body()
    assert _put(world, body).status_code == 200
    before = _state(world.lock.lock_id)
    _refused(_put(world, body), 409, "syncSequence")
    assert _state(world.lock.lock_id) == before


def test_version_rollback_is_refused(synced):
    """(A version *above* what the server signed is a restored server: tests/locks/test_restore.py.)"""
    world, _ = synced
    before = _state(world.lock.lock_id)
    current = world.lock.key_map["keyMapVersion"]
    _refused(_put(world, world.lock.sync_body(currentKeyMapVersion=current - 1)), 409, "currentKeyMapVersion")
    assert _state(world.lock.lock_id) == before


def test_a_clock_far_off_is_refused_with_signed_server_time_and_the_lock_recovers(synced):
    world, _ = synced
    before = _state(world.lock.lock_id)
    world.lock.clock_offset += 3600
    response = world.sync()
    body = _refused(response, 400, "syncDate")
    assert body["data"]["serverTime"]["payload"]["accepted"] is False
    assert _state(world.lock.lock_id) == before
    assert abs(world.lock.clock_offset) <= 2  # the lock took the signed server time
    assert world.sync().status_code == 200


def test_a_sync_date_without_an_offset_is_refused_naming_it(synced):
    """A quiet-looking sync (nothing to report) with a naive syncDate: the quiet path leaves it
    to the full one, which refuses it by name and records nothing."""
    world, _ = synced
    before = _state(world.lock.lock_id)
    naive = iso(world.lock.now()).removesuffix(".000Z")
    body = _refused(_put(world, world.lock.sync_body(syncDate=naive)), 400, "syncDate")
    assert "Must carry Z or an offset." in json.dumps(body)
    assert _state(world.lock.lock_id) == before
    assert world.sync().status_code == 200  # the next, well-dated sync is accepted


def test_bad_acknowledgements_are_refused(synced):
    world, _ = synced
    lock = world.lock
    before = _state(lock.lock_id)
    version = lock.key_map["keyMapVersion"]
    wrong_digest = {"lockId": lock.lock_id, "keyMapVersion": version, "keyMapDigest": b64url(bytes(32)), "appliedAt": 1}
    ack = {"payload": wrong_digest, "signatures": sign(lock.signing_key, wrong_digest, "keyhouse/lock-ack/v1")}
    _refused(_put(world, lock.sync_body(ack=ack)), 400, "ack.payload.keyMapDigest")
    stored = SignedKeyMap.objects.get(lock_id=lock.lock_id, version=version)
    good = {**wrong_digest, "keyMapDigest": stored.payload_digest}
    forged = {"payload": good, "signatures": sign(ReferenceLock().signing_key, good, "keyhouse/lock-ack/v1")}
    _refused(_put(world, lock.sync_body(ack=forged)), 400, "ack.signatures")
    as_sync = {"payload": good, "signatures": sign(lock.signing_key, good, "keyhouse/lock-sync-request/v1")}
    _refused(_put(world, lock.sync_body(ack=as_sync)), 400, "ack.signatures")  # another context
    assert _state(lock.lock_id) == before


def test_tampered_or_misdirected_logs_are_refused(synced):
    world, phone = synced
    lock = world.lock
    lock.unlock(phone.proof(lock.challenge(), at=lock.now()))
    before = _state(lock.lock_id)
    body = lock.sync_body()
    blob = bytearray(crypto.b64url_decode(body["encryptedAccessLogs"]))
    blob[-1] ^= 1
    payload = {k: v for k, v in body.items() if k != "signatures"}
    payload["encryptedAccessLogs"] = b64url(bytes(blob))
    _refused(
        _put(world, {**payload, "signatures": sign(lock.signing_key, payload, "keyhouse/lock-sync-request/v1")}),
        400,
        "encryptedAccessLogs",
    )
    # sealed for another sync (aad binds lockId and syncSequence): replaying an old blob fails
    payload = {k: v for k, v in lock.sync_body().items() if k != "signatures"}
    payload["encryptedAccessLogs"] = body["encryptedAccessLogs"]
    _refused(
        _put(world, {**payload, "signatures": sign(lock.signing_key, payload, "keyhouse/lock-sync-request/v1")}),
        400,
        "encryptedAccessLogs",
    )
    assert _state(lock.lock_id) == before


def _sealed(lock, logs, sequence):
    aad = jcs({"lockId": lock.lock_id, "syncSequence": sequence}).encode()
    raw = seal(
        crypto.b64url_decode(lock.logs_key["publicKey"]),
        jcs({"logs": logs}).encode(),
        info="keyhouse/access-logs/v1",
        aad=aad,
    )
    return b64url(raw)


def _log(sequence, **extra):
    return {
        "sequence": sequence,
        "accessDate": 1_700_000_000 + sequence,
        "result": "denied",
        "reason": "unknown-key",
        **extra,
    }


@pytest.mark.parametrize("sequences, message", [([3, 3], "duplicate"), ([4, 2], "out of order")])
def test_a_batch_with_duplicate_or_out_of_order_sequences_is_refused_whole(synced, sequences, message):
    world, _ = synced
    lock = world.lock
    before = _state(lock.lock_id)
    logs = [_log(s) for s in sequences]
    body = lock.sync_body(
        encryptedAccessLogs=_sealed(lock, logs, lock.sync_sequence + 1), accessLogsKid=lock.logs_key["kid"]
    )
    assert message in _refused(_put(world, body), 400, "encryptedAccessLogs.logs[1].sequence")["error"]
    assert _state(lock.lock_id) == before


def test_resent_logs_are_ignored_and_gaps_are_detected_then_filled(synced):
    world, _ = synced
    lock = world.lock
    lock.logs = [_log(1), _log(2), _log(5), _log(6)]
    data = ok_signed(world.sync())
    assert data["accessLogs"] == {"stored": 4, "duplicates": 0, "highestSequence": 6, "missing": [[3, 4]]}
    assert [log["sequence"] for log in lock.logs] == []

    lock.logs = [_log(2), _log(4), _log(9)]  # 2 again, 4 late, 7–8 lost
    data = ok_signed(world.sync())
    assert data["accessLogs"] == {"stored": 2, "duplicates": 1, "highestSequence": 9, "missing": [[3, 3], [7, 8]]}
    page = d.ok(world.manager.get(f"/api/v1/locks/{lock.lock_id}/logs"))
    assert [log["sequence"] for log in page["accessLogs"]] == [9, 6, 5, 4, 2, 1]
    assert [(g["fromSequence"], g["toSequence"], g["missing"]) for g in page["gaps"]] == [(3, 3, 1), (7, 8, 2)]
    private = ok_signed(world.manager.get(f"/api/v1/locks/{lock.lock_id}"))["private"]
    assert private["missingAccessLogs"] == 3


def test_a_key_map_for_another_lock_is_refused_by_the_lock(synced):
    from tests.locks.reference_lock import LockRefused

    world, _ = synced
    other = ReferenceLock()
    response = world.manager.post(
        "/api/v1/locks", other.provision_body(propertyId=str(world.prop.pk), areaId=str(world.unit.pk)), format="json"
    )
    other.apply_command(response.json())
    settle()
    other_map = SignedKeyMap.objects.filter(lock_id=other.lock_id).order_by("-version").first()
    envelope = {"payload": other_map.payload, "signatures": other_map.signatures}
    with pytest.raises(LockRefused, match="another lock"):
        world.lock.apply_key_map(envelope)
    tampered = {"payload": {**other_map.payload, "lockId": world.lock.lock_id}, "signatures": other_map.signatures}
    with pytest.raises(LockRefused, match="bad signature"):
        world.lock.apply_key_map(tampered)


def test_only_the_lock_itself_may_sync(synced):
    world, _ = synced
    body = world.lock.sync_body()
    d.refused(world.manager.put(f"/api/v1/locks/{world.lock.lock_id}/sync", body, format="json"), 403)
    from rest_framework.test import APIClient

    d.refused(APIClient().put(f"/api/v1/locks/{world.lock.lock_id}/sync", body, format="json"), 401)


def test_strict_json_duplicate_members_are_refused(synced):
    world, _ = synced
    raw = '{"lockId": "a", "lockId": "b"}'
    response = world.lock_api.put(f"/api/v1/locks/{world.lock.lock_id}/sync", raw, content_type="application/json")
    assert d.refused(response, 400)["data"]["fields"] == {"lockId": ["Not strict JSON: duplicate member"]}


def test_a_fraction_is_refused_naming_the_member_not_the_value(synced):
    """PROTOCOL.md §6.4: `currentKeyMapVersion: 2.0` is a 400 on currentKeyMapVersion."""
    world, _ = synced
    raw = json.dumps({**world.lock.sync_body(), "currentKeyMapVersion": "@"}).replace('"@"', "2.0")
    before = _state(world.lock.lock_id)
    response = world.lock_api.put(f"/api/v1/locks/{world.lock.lock_id}/sync", raw, content_type="application/json")
    fields = d.refused(response, 400)["data"]["fields"]
    assert fields == {"currentKeyMapVersion": ["Not strict JSON: 2.0: fractions are not allowed in signed payloads"]}
    assert _state(world.lock.lock_id) == before


@pytest.mark.parametrize(
    ("member", "value", "problem"),
    [("ack", "[" * 1000 + "]" * 1000, "nested deeper than 32"), ("syncSequence", "1" * 5000, "more than 20 digits")],
    ids=["1000-levels", "5000-digits"],
)
def test_deep_json_and_huge_numbers_are_400s_that_change_nothing(synced, member, value, problem):
    """Not a RecursionError / ValueError 500: refused by the strict parser's bounds."""
    world, _ = synced
    body = world.lock.sync_body()
    raw = json.dumps({**body, member: "@"}).replace('"@"', value)
    before = _state(world.lock.lock_id)
    response = world.lock_api.put(f"/api/v1/locks/{world.lock.lock_id}/sync", raw, content_type="application/json")
    assert problem in d.refused(response, 400)["error"]
    assert _state(world.lock.lock_id) == before


def test_a_no_change_sync_runs_four_queries_and_no_transaction(synced, django_assert_num_queries):
    world, _ = synced
    # the credential with its lock and area (the view does not read the lock again), the lock's
    # key and the property's signers in one, one conditional UPDATE (no row lock, no savepoint),
    # the cache counters (firmware assignments kept per process, or read when the counters are
    # unreadable); the lock has no open gap, so they are not read
    with django_assert_num_queries(4) as captured:
        assert world.sync().status_code == 200
    sql = [q["sql"] for q in captured.captured_queries]
    assert len([q for q in sql if q.startswith("SELECT") and 'FROM "locks_lock"' in q]) == 0
    assert len([q for q in sql if q.startswith("UPDATE") and '"locks_lock"' in q]) == 1
    assert len([q for q in sql if 'FROM "keys_key"' in q]) == 1
    assert not [q for q in sql if "SAVEPOINT" in q or "FOR UPDATE" in q]
    assert not [q for q in sql if "locks_lockaccessloggap" in q]


def test_a_quiet_sync_records_the_sequence_and_refuses_a_replay(synced):
    """The one-UPDATE path still moves the sequence and the sync date, so the same request sent
    again is a 409 that changes nothing, as on the full path."""
    world, _ = synced
    body = world.lock.sync_body()
    path = f"/api/v1/locks/{world.lock.lock_id}/sync"
    ok_signed(world.lock_api.put(path, body, format="json"))
    lock = Lock.objects.get(pk=world.lock.lock_id)
    assert lock.last_sync_sequence == body["syncSequence"]
    assert lock.last_known_sync_date is not None
    before = _state(world.lock.lock_id)
    response = world.lock_api.put(path, body, format="json")
    assert "replayed or stale request" in d.refused(response, 409)["error"]
    assert _state(world.lock.lock_id) == before


def test_a_sync_that_reports_something_takes_the_full_path(synced):
    """A changed firmware version does not match the quiet UPDATE: the locked path records it
    and its `lock.synced` event."""
    world, _ = synced
    world.lock.firmware = "9.9.9"
    assert world.sync().status_code == 200
    assert Lock.objects.get(pk=world.lock.lock_id).current_firmware_version == "9.9.9"
    assert Event.objects.filter(event_name="lock.synced", lock_id=world.lock.lock_id).exists()


def test_open_gaps_are_reported_by_every_sync_and_only_a_lock_with_some_reads_them(synced):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    world, _ = synced
    lock = world.lock

    def sync() -> tuple[dict, bool]:
        with CaptureQueriesContext(connection) as captured:
            data = ok_signed(world.sync())
        return data["accessLogs"], any("locks_lockaccessloggap" in q["sql"] for q in captured.captured_queries)

    lock.logs = [_log(1), _log(4), _log(7)]
    logs, _ = sync()
    assert logs["missing"] == [[2, 3], [5, 6]] and Lock.objects.get(pk=lock.lock_id).open_access_log_gaps == 2
    assert sync() == ({"stored": 0, "duplicates": 0, "highestSequence": 7, "missing": [[2, 3], [5, 6]]}, True)
    lock.logs = [_log(2)]  # one gap shrinks, one stays
    assert sync()[0]["missing"] == [[3, 3], [5, 6]]
    lock.logs = [_log(3), _log(5)]  # one gap filled, the other shrinks
    assert sync()[0]["missing"] == [[6, 6]]
    assert (
        Lock.objects.get(pk=lock.lock_id).open_access_log_gaps
        == LockAccessLogGap.objects.filter(lock_id=lock.lock_id).count()
        == 1
    )
    lock.logs = [_log(6)]
    assert sync()[0]["missing"] == []
    assert Lock.objects.get(pk=lock.lock_id).open_access_log_gaps == 0
    assert sync() == ({"stored": 0, "duplicates": 0, "highestSequence": 7, "missing": []}, False)


def test_a_gap_in_the_middle_of_one_splits_it_in_two_and_the_count_follows(synced):
    world, _ = synced
    world.lock.logs = [_log(1), _log(9)]
    assert ok_signed(world.sync())["accessLogs"]["missing"] == [[2, 8]]
    world.lock.logs = [_log(5)]
    assert ok_signed(world.sync())["accessLogs"]["missing"] == [[2, 4], [6, 8]]
    assert Lock.objects.get(pk=world.lock.lock_id).open_access_log_gaps == 2


def test_the_migration_counts_the_gaps_that_exist(synced):
    import importlib

    from django.apps import apps

    world, _ = synced
    other = Lock.objects.create(display_name="No gaps")
    for first in (3, 7):
        LockAccessLogGap.objects.create(lock_id=world.lock.lock_id, first_sequence=first, last_sequence=first)
    migration = importlib.import_module("apps.locks.migrations.0003_lock_open_access_log_gaps")
    migration.count_open_gaps(apps, None)
    assert Lock.objects.get(pk=world.lock.lock_id).open_access_log_gaps == 2
    assert Lock.objects.get(pk=other.pk).open_access_log_gaps == 0


def test_the_locks_key_and_the_propertys_signers_come_in_one_query(synced, django_assert_num_queries):
    from datetime import timedelta

    from django.conf import settings
    from django.utils import timezone

    from apps.core.actors import SYSTEM
    from apps.keys.choices import KeyKeyMode, KeyOwnerType, KeyPurpose
    from apps.keys.models import Key
    from apps.keys.selectors import key_active
    from apps.keys.services import key_rotate
    from apps.locks import signing

    world, _ = synced
    lock = Lock.objects.get(pk=world.lock.lock_id)

    def active():
        return key_active(
            owner_type=KeyOwnerType.PROPERTY,
            owner_id=world.prop.pk,
            purpose=KeyPurpose.PROPERTY_KEY,
            key_mode=KeyKeyMode.SIGN_VERIFY,
        )

    def both():
        with django_assert_num_queries(1):
            keys = signing.lock_sync_keys(lock)
        assert keys.lock_keys == [raw_public(world.lock.signing_key)]
        return keys

    first = active()
    assert [k.kid for k in both().signers.signing] == [first.kid]
    second = key_rotate(key=first, actor=SYSTEM)
    third = key_rotate(key=second, actor=SYSTEM)
    expected = [third.kid, second.kid, first.kid]  # the active one, then the newest rotated out
    assert [k.kid for k in both().signers.signing] == expected
    assert [k.kid for k in signing.property_signers(world.prop.pk).signing] == expected
    too_old = timezone.now() - timedelta(seconds=settings.KEYHOUSE_PROPERTY_KEY_OVERLAP_SECONDS + 60)
    Key.objects.filter(pk=first.pk).update(rotated_at=too_old)
    assert [k.kid for k in both().signers.signing] == [third.kid, second.kid]
    assert [k.kid for k in signing.property_signers(world.prop.pk).signing] == [third.kid, second.kid]
    # a lock in no property: its key only; a property with no active key yet: None (generated later)
    assert signing.lock_sync_keys(Lock(pk=lock.pk, property_id=None)) == signing.LockSyncKeys(
        lock_keys=[raw_public(world.lock.signing_key)], signers=None
    )
    Key.objects.filter(pk=third.pk).update(type_state="inactive", rotated_at=timezone.now())
    assert signing.lock_sync_keys(lock).signers is None


def test_a_lock_deprovisioned_while_its_sync_is_checked_is_404_and_records_nothing(synced, monkeypatch):
    """Between reading the lock's keys and taking its row lock, a manager deprovisions it."""
    from apps.core.actors import SYSTEM
    from apps.locks import signing
    from apps.locks.services.locks import lock_deprovision

    world, _ = synced
    real = signing.lock_sync_keys

    def lock_sync_keys(lock):
        keys = real(lock)
        lock_deprovision(lock=Lock.objects.get(pk=lock.pk), actor=SYSTEM)
        return keys

    monkeypatch.setattr(signing, "lock_sync_keys", lock_sync_keys)
    before = _state(world.lock.lock_id)

    d.refused(_put(world, world.lock.sync_body()), 404)

    after = _state(world.lock.lock_id)
    assert after[:6] == before[:6]  # sequence, versions, firmware, sync date, logs: as they were
    assert Lock.objects.get(pk=world.lock.lock_id).deprovisioned_at is not None


def test_a_sync_reads_the_required_firmware_from_the_process_copy(synced, django_capture_on_commit_callbacks):
    """syncLock asks for the lock's required firmware on every sync: a repeat runs no firmware
    query (firmware.assignment_cache), and an assignment to the lock itself, or its removal, is
    in the very next answer."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from apps.accounts.models import CredentialVersion
    from apps.core.actors import SYSTEM
    from apps.firmware import services as firmware_services
    from apps.firmware.assignment_cache import assignment_cache_clear
    from apps.firmware.models import FirmwareAssignmentVersion
    from tests.firmware.conftest import firmware_upload

    CredentialVersion.objects.get_or_create(pk=1)  # a transactional test may have flushed them
    FirmwareAssignmentVersion.objects.get_or_create(pk=1)
    assignment_cache_clear()
    world, _ = synced
    assert ok_signed(world.sync())["requiredFirmwareVersion"] is None
    with CaptureQueriesContext(connection) as captured:
        assert ok_signed(world.sync())["requiredFirmwareVersion"] is None
    assert not [q for q in captured.captured_queries if '"firmware_firmwareassignment"' in q["sql"]]
    lock = Lock.objects.get(pk=world.lock.lock_id)
    with django_capture_on_commit_callbacks(execute=True):
        firmware_services.firmware_assign(
            firmware_version=firmware_upload("7.1.0", b"image"), scope="lock", lock=lock, actor=SYSTEM
        )
    assert ok_signed(world.sync())["requiredFirmwareVersion"] == "7.1.0"
    with django_capture_on_commit_callbacks(execute=True):
        firmware_services.firmware_unassign(scope="lock", lock=lock, actor=SYSTEM)
    assert ok_signed(world.sync())["requiredFirmwareVersion"] is None
