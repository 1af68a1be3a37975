"""Key maps (PROTOCOL.md §6.3): built by the worker from derived lines, members and device keys;
a version only when the content changes; re-issued before notAfter; a propertyKey rotation
announced with both keys signing; the sweep and its manual twin."""

from datetime import timedelta

import pytest
from django.core.management import call_command
from django.utils import timezone

from apps.access import services as access_services
from apps.core.actors import SYSTEM
from apps.keys import crypto
from apps.keys.choices import KeyKeyMode, KeyOwnerType, KeyPurpose
from apps.keys.selectors import key_active
from apps.keys.services import key_rotate
from apps.locks import services
from apps.locks.models import KeyMapBuild, KeyMapRequest, Lock, SignedKeyMap
from tests.factories import directory as d
from tests.locks.conftest import Phone, settle

pytestmark = pytest.mark.django_db


def _lock(world) -> Lock:
    return Lock.objects.get(pk=world.lock.lock_id)


def _versions(world) -> list[int]:
    return list(
        SignedKeyMap.objects.filter(lock_id=world.lock.lock_id).order_by("version").values_list("version", flat=True)
    )


def test_versions_rise_only_when_the_content_changes(world):
    before = _versions(world)
    d.member_add(world.residents, world.alice)  # no phone yet: nothing for the lock to know
    settle()
    assert _versions(world) == before
    phone = Phone.provision(world.alice)  # now the lock must know her key
    settle()
    assert _versions(world) == [*before, before[-1] + 1]
    services.key_maps_build(property_id=world.prop.pk)  # nothing new: nothing signed
    assert _versions(world) == [*before, before[-1] + 1]
    current = SignedKeyMap.objects.get(lock_id=world.lock.lock_id, version=_lock(world).signed_key_map_version)
    (entry,) = current.payload["entries"]
    assert (entry["kid"], entry["userId"], entry["userDeviceId"]) == (
        phone.access.kid,
        str(world.alice.pk),
        str(phone.device.pk),
    )
    assert entry["accessKeyId"] == str(phone.device.access_key_id) and entry["userGroupId"] == str(world.residents.pk)


def test_the_worker_signs_once_per_changed_lock_and_coalesces_events(world):
    from tests.factories.access import lock_in

    lock_in(world.unit, "Back door")
    lock_in(d.area_create(world.prop, area_type="resident"), "Unit door")  # not reached by Residents
    settle()
    for _ in range(3):
        d.member_add(world.residents, user := d.user_create())
        Phone.provision(user)
    first_build = KeyMapBuild.objects.order_by("-id").first().pk
    signatures = []
    real_sign = crypto.sign

    def counting(private, message):
        signatures.append(message.split(b"\n", 1)[0])
        return real_sign(private, message)

    monkeypatch = pytest.MonkeyPatch()
    monkeypatch.setattr(crypto, "sign", counting)
    try:
        settle()  # six events, then one build of the property
    finally:
        monkeypatch.undo()
    builds = list(KeyMapBuild.objects.filter(pk__gt=first_build))
    # the two doors whose lines name Residents, computed once each; the unit door is not read
    assert [(b.locks_checked, b.locks_signed) for b in builds] == [(2, 2)]
    assert signatures == [b"keyhouse/lock-key-map/v1"] * 2


def test_schedules_become_utc_intervals_and_free_passage_works_offline(world):
    now = timezone.now()
    today = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"][now.astimezone(timezone.get_fixed_timezone(0)).weekday()]
    hours = access_services.schedule_create(
        prop=world.prop,
        display_name="All day",
        windows=[{"days": [today], "start": "00:00", "stop": "24:00"}],
        actor=SYSTEM,
    )

    access_services.area_update(
        area=world.unit, access_list=[{"accessType": "schedule", "scheduleId": str(hours.pk)}], actor=SYSTEM
    )
    settle()
    world.sync()
    key_map = world.lock.key_map
    assert key_map["open"] == [{"schedule": str(hours.pk), "validFrom": None, "validUntil": None}]
    intervals = key_map["schedules"][str(hours.pk)]
    assert intervals[0][0] == key_map["issuedAt"] and all(b > a for a, b in intervals)
    assert world.lock.free_passage() is True


def test_maps_nearing_not_after_are_reissued_by_the_sweep(world):
    lock = _lock(world)
    first = SignedKeyMap.objects.get(lock=lock, version=lock.signed_key_map_version)
    assert services.key_maps_sweep()["reissued"] == 0
    later = lock.signed_key_map_not_after - timedelta(days=1)
    result = services.key_maps_sweep(now=later)
    assert result == {"built": 1, "reissued": 1, "failed": []}
    lock.refresh_from_db()
    second = SignedKeyMap.objects.get(lock=lock, version=lock.signed_key_map_version)
    assert second.version == first.version + 1 and second.digest == first.digest
    assert second.payload["entries"] == first.payload["entries"] and second.build.reason == "reissue"


def test_a_property_key_rotation_is_announced_and_co_signed(world):
    old = key_active(
        owner_type=KeyOwnerType.PROPERTY,
        owner_id=world.prop.pk,
        purpose=KeyPurpose.PROPERTY_KEY,
        key_mode=KeyKeyMode.SIGN_VERIFY,
    )
    world.sync()
    assert set(world.lock.trusted) == {old.kid}
    new = key_rotate(key=old, actor=SYSTEM)
    settle()
    world.sync()  # the lock knew only the old key; the old key co-signs, so it accepts
    assert set(world.lock.trusted) == {old.kid, new.kid}
    current = SignedKeyMap.objects.get(lock_id=world.lock.lock_id, version=world.lock.key_map["keyMapVersion"])
    assert set(current.signatures) == {old.kid, new.kid}


def test_an_uninstalled_lock_gets_an_empty_map_and_a_moved_lock_its_new_lines(world):
    Phone.provision(world.alice)
    d.member_add(world.residents, world.alice)
    settle()
    world.sync()
    assert world.lock.key_map["entries"]
    response = world.manager.put(f"/api/v1/locks/{world.lock.lock_id}/uninstall", format="json")
    world.lock.apply_command(response.json())
    settle()
    world.sync()
    assert world.lock.key_map["entries"] == [] and world.lock.area_id is None


def test_lost_tasks_are_built_by_the_sweep_and_the_command(world):
    KeyMapRequest.objects.create(property_id=world.prop.pk, reason="test")
    assert services.key_maps_pending() == [str(world.prop.pk)]
    assert services.key_maps_sweep(grace_seconds=3600)["built"] == 0  # still within its grace
    call_command("key_maps_build")
    assert services.key_maps_pending() == []
    before = _versions(world)
    call_command("key_maps_build", "--property", str(world.prop.pk), "--reissue")
    assert _versions(world) == [*before, before[-1] + 1]


def test_a_deleted_property_answers_its_requests_without_signing(world):
    KeyMapRequest.objects.create(property_id=d.property_create().pk, reason="test")
    from apps.properties.models import Property

    Property.objects.filter(pk=KeyMapRequest.objects.last().property_id).update(type_state="deleted")
    settle()
    assert services.key_maps_pending() == []
