"""syncUserDevice (operation 31, docs/PROTOCOL.md §7.3–§7.5) driven by the reference phone."""

import datetime as dt
import json
import re

import pytest

from apps.core.actors import SYSTEM
from apps.devices import services
from apps.devices.models import DeviceMap, UserDevice
from apps.devices.services import sync as sync_module
from apps.keys import canonical, crypto
from apps.keys.models import Key
from tests.devices.conftest import person_client
from tests.devices.factories import device_provision
from tests.devices.phone import Phone, PhoneRefused
from tests.factories import directory as d
from tests.factories.access import lock_in, process_events

pytestmark = pytest.mark.django_db


def _url(phone: Phone, *, user_id=None, device_id=None) -> str:
    return f"/api/v1/users/{user_id or phone.user_id}/devices/{device_id or phone.user_device_id}/sync"


def _sync(client, phone: Phone, body: dict | None = None, **url):
    body = phone.sync_body() if body is None else body
    return client.put(_url(phone, **url), body, format="json")


def _ok(response) -> dict:
    """The `data` of a sync answer: a signed envelope {success, error, data, signatures, eventIds}."""
    assert response.status_code == 200, (response.status_code, response.content[:300])
    body = response.json()
    assert set(body) == {"success", "error", "data", "signatures", "eventIds"} and body["success"] is True, body
    return body["data"]


def _state(device) -> tuple:
    device.refresh_from_db()
    return (
        device.last_sync_counter,
        device.last_known_sync_date,
        device.map_version,
        device.map_digest,
        device.current_os_version,
    )


@pytest.fixture
def alice_phone(world):
    device, phone = device_provision(world.alice)
    return device, phone, person_client(world.alice)


def test_first_sync_delivers_the_sealed_map_and_the_phone_reads_it(world, alice_phone):
    device, phone, client = alice_phone
    response = _sync(client, phone)
    envelope = response.json()
    assert response.status_code == 200 and envelope["success"] is True
    data = envelope["data"]
    assert data["userAccessMapVersion"] == "1" and len(data["encryptedUserAccessMapEntries"]) == 1

    opened = phone.receive(envelope)
    assert opened["userAccessMapVersion"] == "1" and phone.map_version == "1"
    assert phone.lock_ids() == {str(world.tower_door.pk), str(world.gym_door.pk)}
    by_lock = {e["lockId"]: e for e in opened["entries"]}
    tower = by_lock[str(world.tower_door.pk)]
    assert tower["schedule"] is None and tower["areaId"] == str(world.tower.pk)
    assert tower["propertyId"] == str(world.prop_a.pk)
    assert "lockKid" in tower  # null until the lock side exposes lock kids
    gym = by_lock[str(world.gym_door.pk)]
    assert gym["schedule"]["scheduleId"] == str(world.gym_hours.pk)
    assert gym["schedule"]["windows"] == [
        {"days": ["mon", "tue", "wed", "thu", "fri"], "start": "06:00", "stop": "22:00"}
    ]
    assert opened["accessKid"] == phone.access.kid and opened["accessKeyId"] == str(device.access_key_id)
    [prop] = opened["properties"]
    assert prop["timeZone"] == "Europe/London"
    property_key = Key.objects.get(owner_type="property", owner_id=world.prop_a.pk, key_mode="SIGN_VERIFY")
    assert prop["signingKeys"] == [
        {"kid": property_key.kid, "publicKey": crypto.b64url_encode(property_key.public_key_bytes)}
    ]
    # Signed server time, verifiable with the property key a lock of A trusts.
    assert set(envelope["signatures"]) == {property_key.kid}
    canonical.verify_signatures(
        data, envelope["signatures"], canonical.CONTEXT_DEVICE_SYNC_RESPONSE, [property_key.public_key_bytes]
    )
    server_time = dt.datetime.fromisoformat(data["serverTime"].replace("Z", "+00:00"))
    assert abs((dt.datetime.now(dt.UTC) - server_time).total_seconds()) < 5
    assert opened["notAfter"] == data["notAfter"] > data["serverTime"]
    # PROTOCOL.md §7.5 "Types": every time in the map is a spec timestamp string, never a number
    stamp = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$")
    assert stamp.match(opened["issuedAt"]) and stamp.match(opened["notAfter"])
    for entry in opened["entries"]:
        for bound in (entry["validFrom"], entry["validUntil"]):
            assert bound is None or stamp.match(bound), entry

    device.refresh_from_db()
    assert device.last_sync_counter == 1 and device.last_known_sync_date is not None
    assert device.current_os_version == "18.1" and device.current_app_version == "2.3.0"
    private = d.ok(client.get(f"/api/v1/users/{world.alice.pk}/devices/{device.pk}"))["private"]
    assert private["userAccessMapVersion"] == "1" and private["currentUserAccessMapVersion"] == ""
    assert private["lastKnownSyncDate"] is not None and private["lastSyncCounter"] == 1


def test_a_sync_without_changes_delivers_no_map_but_renews_it(world, alice_phone):
    _, phone, client = alice_phone
    phone.receive(_sync(client, phone).json())
    first_not_after = phone.not_after
    envelope = _sync(client, phone).json()
    assert envelope["data"]["encryptedUserAccessMapEntries"] is None
    assert envelope["data"]["userAccessMapVersion"] == "1"
    assert phone.receive(envelope) is None
    assert phone.map_version == "1" and phone.not_after >= first_not_after


def test_the_version_rises_only_when_the_content_changes(world, alice_phone):
    device, phone, client = alice_phone
    phone.receive(_sync(client, phone).json())
    lobby = d.area_create(world.prop_a, area_type="common", parent=world.tower)
    new_door = lock_in(lobby, "Lobby door")
    process_events()
    envelope = _sync(client, phone).json()
    assert envelope["data"]["userAccessMapVersion"] == "2"
    phone.receive(envelope)
    assert str(new_door.pk) in phone.lock_ids()
    # Renaming a group or a person changes nothing the phone holds: no new version.
    d.user_create()
    process_events()
    assert _sync(client, phone).json()["data"]["userAccessMapVersion"] == "2"
    # Losing access is a change too.
    from apps.access import services as access_services

    access_services.membership_remove(group=d.property_group(world.prop_a), user=world.alice, actor=SYSTEM)
    process_events()
    envelope = _sync(client, phone).json()
    assert envelope["data"]["userAccessMapVersion"] == "3"
    phone.receive(envelope)
    assert phone.lock_ids() == set() and phone.access_map["properties"] == []
    assert envelope["signatures"] == {}  # no property left to sign for


def test_two_phones_of_one_person_each_get_their_own_sealed_map(world, alice_phone):
    _, phone, client = alice_phone
    _, second = device_provision(world.alice, display_name="Tablet")
    phone.receive(_sync(client, phone).json())
    envelope = _sync(client, second).json()
    with pytest.raises(PhoneRefused):  # sealed to the other phone's key, and bound to its id
        phone.open_map(envelope["data"]["encryptedUserAccessMapEntries"][0], version="1")
    assert second.receive(envelope)["userDeviceId"] == second.user_device_id


# --- attacks and bad input: each is refused and changes nothing ---------------------------------


def _refused_unchanged(client, phone, device, body, status, field=None, **url):
    before = _state(device)
    response = _sync(client, phone, body, **url)
    envelope = d.refused(response, status)
    if field:
        assert field in envelope["error"], envelope
    assert _state(device) == before
    return envelope


def test_a_bad_signature_is_401(world, alice_phone):
    device, phone, client = alice_phone
    body = phone.sync_body()
    signature = bytearray(crypto.b64url_decode(body["deviceSignature"]))
    signature[5] ^= 1
    _refused_unchanged(
        client,
        phone,
        device,
        {**body, "deviceSignature": crypto.b64url_encode(bytes(signature))},
        401,
        "deviceSignature",
    )
    # A signed member changed after signing.
    _refused_unchanged(client, phone, device, {**phone.sync_body(), "currentOsVersion": "99"}, 401, "deviceSignature")


def test_a_missing_or_malformed_signature_is_400(world, alice_phone):
    device, phone, client = alice_phone
    body = phone.sync_body()
    body.pop("deviceSignature")
    _refused_unchanged(client, phone, device, body, 400, "deviceSignature")
    _refused_unchanged(
        client, phone, device, {**phone.sync_body(), "deviceSignature": "not base64url!"}, 400, "deviceSignature"
    )
    _refused_unchanged(client, phone, device, {**phone.sync_body(), "deviceSignature": "AAAA"}, 401, "deviceSignature")


def test_a_signature_by_another_devices_key_is_401(world, alice_phone):
    device, phone, client = alice_phone
    _, other = device_provision(world.alice, display_name="Tablet")
    impostor = Phone(
        access=other.access,
        sync=other.sync,
        seal=other.seal,
        user_id=phone.user_id,
        user_device_id=phone.user_device_id,
    )
    _refused_unchanged(client, phone, device, impostor.sync_body(), 401, "deviceSignature")
    # The other device's genuine request, sent to this device's path: bound to the other id.
    _refused_unchanged(client, phone, device, other.sync_body(), 400, "userDeviceId")


def test_a_replayed_sync_is_409(world, alice_phone):
    device, phone, client = alice_phone
    body = phone.sync_body()
    _ok(_sync(client, phone, body))
    envelope = _refused_unchanged(client, phone, device, body, 409, "syncCounter")
    assert envelope["data"]["lastSyncCounter"] == body["syncCounter"]
    _refused_unchanged(client, phone, device, phone.sync_body(counter=body["syncCounter"] - 1 or 1), 409, "syncCounter")
    phone.counter += 10  # gaps are fine: strictly increasing is all that is asked
    _ok(_sync(client, phone))


def test_a_stale_or_future_clock_is_400_with_server_time(world, alice_phone, settings):
    device, phone, client = alice_phone
    skew = settings.KEYHOUSE_DEVICE_SYNC_MAX_SKEW_SECONDS
    now = dt.datetime.now(dt.UTC)
    for when in (now - dt.timedelta(seconds=skew + 30), now + dt.timedelta(seconds=skew + 30)):
        envelope = _refused_unchanged(client, phone, device, phone.sync_body(now=when), 400, "syncDate")
        assert envelope["data"]["serverTime"].endswith("Z")
    _ok(_sync(client, phone, phone.sync_body(now=now - dt.timedelta(seconds=skew - 30))))


def test_a_tampered_sealed_map_is_rejected_by_the_phone(world, alice_phone):
    _, phone, client = alice_phone
    envelope = _sync(client, phone).json()
    blob = bytearray(crypto.b64url_decode(envelope["data"]["encryptedUserAccessMapEntries"][0]))
    blob[70] ^= 1
    with pytest.raises(PhoneRefused, match="does not open"):
        phone.open_map(crypto.b64url_encode(bytes(blob)), version="1")
    with pytest.raises(PhoneRefused, match="does not open"):  # the aad binds the version
        phone.open_map(envelope["data"]["encryptedUserAccessMapEntries"][0], version="2")
    # The response signature covers the sealed map: swapping it is caught even if it opened.
    forged = json.loads(json.dumps(envelope))
    forged["data"]["encryptedUserAccessMapEntries"] = [crypto.b64url_encode(bytes(blob))]
    with pytest.raises(PhoneRefused):
        phone.receive(forged)
    assert phone.access_map is None
    assert phone.receive(envelope) is not None  # the genuine answer still works


def test_the_phone_refuses_an_answer_to_another_request(world, alice_phone):
    _, phone, client = alice_phone
    envelope = _sync(client, phone).json()
    phone.sync_body()  # a newer request is now outstanding
    with pytest.raises(PhoneRefused, match="answer"):
        phone.receive(envelope)


def test_a_device_of_another_user(world, alice_phone):
    device, phone, client = alice_phone
    bob_device, bob_phone = device_provision(world.bob)
    # Alice's token, Bob's device: 404 whichever path she uses.
    _refused_unchanged(client, bob_phone, bob_device, bob_phone.sync_body(), 404)
    _refused_unchanged(client, bob_phone, bob_device, bob_phone.sync_body(), 404, user_id=world.alice.pk)
    # Bob, signed in, cannot sync Alice's device either.
    _refused_unchanged(person_client(world.bob), phone, device, phone.sync_body(), 404)


def test_a_deprovisioned_device_cannot_sync(world, alice_phone):
    device, phone, client = alice_phone
    _ok(_sync(client, phone))
    services.user_device_deprovision(device=device, actor=SYSTEM)
    _refused_unchanged(client, phone, device, phone.sync_body(), 404)


@pytest.mark.parametrize(
    ("member", "value", "problem"),
    [
        ("makeModel", "[" * 1000 + "]" * 1000, "nested deeper than 32"),
        ("syncCounter", "1" * 5000, "more than 20 digits"),
    ],
    ids=["1000-levels", "5000-digits"],
)
def test_deep_json_and_huge_numbers_are_400s_that_change_nothing(world, alice_phone, member, value, problem):
    """Not a RecursionError / ValueError 500: refused by the strict parser's bounds."""
    device, phone, client = alice_phone
    raw = json.dumps({**phone.sync_body(), member: "@"}).replace('"@"', value)
    before = _state(device)
    response = client.put(_url(phone), raw, content_type="application/json")
    assert problem in d.refused(response, 400)["error"]
    assert _state(device) == before


def test_strict_json_and_strict_members(world, alice_phone):
    device, phone, client = alice_phone
    body = phone.sync_body()
    text = json.dumps(body)[:-1] + ', "syncCounter": 99}'  # duplicate member
    before = _state(device)
    response = client.put(_url(phone), text, content_type="application/json")
    assert d.refused(response, 400)["data"]["fields"] == {"syncCounter": ["Not strict JSON: duplicate member"]}
    assert _state(device) == before
    _refused_unchanged(client, phone, device, {**phone.sync_body(), "extra": 1}, 400, "extra")
    _refused_unchanged(client, phone, device, phone.sync_body(syncCounter="7"), 400, "syncCounter")
    _refused_unchanged(client, phone, device, phone.sync_body(deviceType="Android"), 400, "deviceType")
    _refused_unchanged(client, phone, device, phone.sync_body(userId=str(world.bob.pk)), 400, "userId")


def test_sync_is_one_conditional_update_and_a_number_of_queries_that_does_not_grow(
    world, alice_phone, django_assert_num_queries
):
    device, phone, client = alice_phone
    phone.receive(_sync(client, phone).json())
    # token (+ person); the device with its keys, stored map and its property's signing key; the
    # conditional update. Nothing of the person's access is read (the stored map is current), nor
    # their stored grants or who `me` reaches: the caller syncs its own device.
    with django_assert_num_queries(3):
        phone.receive(_sync(client, phone).json())
    for number in range(5):
        lock_in(world.gym, f"Gym door {number}")
    process_events()
    assert services.device_maps_build_pending(actor=SYSTEM) == {"checked": 1, "sealed": 1}  # the worker
    with django_assert_num_queries(3):  # the same: the worker sealed the changed map
        envelope = _sync(client, phone).json()
    assert len(phone.receive(envelope)["entries"]) == 7
    with django_assert_num_queries(3):
        phone.receive(_sync(client, phone).json())
    assert UserDevice.objects.get(pk=device.pk).last_sync_counter == 4


def test_a_changed_map_the_worker_has_not_built_yet_is_built_by_the_sync_once(world, alice_phone):
    """The fallback (PROTOCOL.md §7.5): a sync that finds the stored map behind builds, seals and
    stores it itself; the next sync answers from the store, and the worker then finds nothing."""
    device, phone, client = alice_phone
    phone.receive(_sync(client, phone).json())
    lock_in(world.gym, "Gym door 9")
    process_events()  # the build task is enqueued after commit: not run here

    assert services.device_maps_pending() == [str(device.pk)]
    envelope = _sync(client, phone).json()
    assert envelope["data"]["userAccessMapVersion"] == "2"
    assert len(phone.receive(envelope)["entries"]) == 3
    assert services.device_maps_pending() == []
    assert services.device_maps_build_pending(actor=SYSTEM) == {"checked": 0, "sealed": 0}
    assert _sync(client, phone).json()["data"]["encryptedUserAccessMapEntries"] is None


def test_a_sync_answers_the_map_the_worker_sealed_once_for_that_version(world, alice_phone):
    """Sealed once per (device, version): two phones' syncs behind the same version get the
    same stored blob, built by the worker, not one sealed per request."""
    device, phone, client = alice_phone
    phone.receive(_sync(client, phone).json())
    lock_in(world.gym, "Gym door 9")
    process_events()
    services.device_maps_build_pending(actor=SYSTEM)
    stored = DeviceMap.objects.get(device_id=device.pk)

    first = _sync(client, phone).json()["data"]["encryptedUserAccessMapEntries"]
    # the phone lost that answer (never received it): it asks again from version 1
    again = _sync(client, phone).json()["data"]["encryptedUserAccessMapEntries"]

    assert first == again == [stored.sealed] and stored.version == 2


def test_a_lock_key_registered_for_a_lock_enters_the_map_and_raises_the_version(world, alice_phone):
    """Entries name each lock by the kid of its active lockKey (null while it has none): when a
    lock registers its key, the content changes, so the version rises by one."""
    from apps.keys import services as key_services

    _, phone, client = alice_phone
    phone.receive(_sync(client, phone).json())
    key = key_services.key_register_public(
        owner_type="lock",
        owner_id=world.tower_door.pk,
        property_id=world.prop_a.pk,
        purpose="lockKey",
        key_mode="SIGN_VERIFY",
        public_key=crypto.generate(crypto.ED25519).public,
        actor=SYSTEM,
    )
    process_events()  # key.registered: the property's device maps are behind
    envelope = _sync(client, phone).json()
    assert envelope["data"]["userAccessMapVersion"] == "2"
    kids = {e["lockId"]: e["lockKid"] for e in phone.receive(envelope)["entries"]}
    assert kids == {str(world.tower_door.pk): key.kid, str(world.gym_door.pk): None}


def _meanwhile(monkeypatch, change):
    """Run `change` once while the sync answers, i.e. after its first read of the device (and
    its stored map) and before the UPDATE that records the sync (a concurrent request)."""
    real = sync_module._take_report

    def take_report(*args, **kwargs):
        change()
        monkeypatch.setattr(sync_module, "_take_report", real)
        return real(*args, **kwargs)

    monkeypatch.setattr(sync_module, "_take_report", take_report)


def test_a_sync_overtaken_by_a_concurrent_one_with_a_higher_counter_is_409_and_records_nothing(
    world, alice_phone, monkeypatch
):
    device, phone, client = alice_phone
    phone.receive(_sync(client, phone).json())
    body = phone.sync_body()
    later = phone.sync_body()
    _meanwhile(
        monkeypatch, lambda: UserDevice.objects.filter(pk=device.pk).update(last_sync_counter=later["syncCounter"])
    )

    envelope = d.refused(_sync(client, phone, body), 409)

    assert "syncCounter" in envelope["error"]
    device.refresh_from_db()
    assert device.last_sync_counter == later["syncCounter"] and device.map_version == 1


def test_a_device_deprovisioned_while_its_sync_is_computed_is_404_and_records_nothing(world, alice_phone, monkeypatch):
    device, phone, client = alice_phone
    phone.receive(_sync(client, phone).json())
    _meanwhile(monkeypatch, lambda: services.user_device_deprovision(device=device, actor=SYSTEM))

    d.refused(_sync(client, phone), 404)

    device.refresh_from_db()
    assert device.deprovisioned_at is not None and device.last_sync_counter == 1


def test_a_no_change_sync_signs_with_the_active_key_read_with_the_device_or_after_a_rotation(
    world, alice_phone, django_assert_num_queries
):
    """The stored map names its property's signing key, read with the device; once that key is
    rotated out (its event not processed yet, so the map is still current) the sync reads the
    active key instead, and signs with it as it always did."""
    from apps.keys import services as key_services

    device, phone, client = alice_phone
    phone.receive(_sync(client, phone).json())
    old = Key.objects.get(owner_type="property", owner_id=world.prop_a.pk, key_mode="SIGN_VERIFY")
    assert DeviceMap.objects.get(device_id=device.pk).signing_key_id == old.pk
    assert set(_sync(client, phone).json()["signatures"]) == {old.kid}

    new = key_services.key_rotate(key=old, actor=SYSTEM)
    with django_assert_num_queries(4):  # + the active signing key
        envelope = _sync(client, phone).json()
    assert envelope["data"]["encryptedUserAccessMapEntries"] is None and set(envelope["signatures"]) == {new.kid}
