"""Lock health: one model, transitions with one event each, the sweep, the API."""

import datetime as dt

import pytest
from django.core.management import call_command
from django.utils import timezone

from apps.core.actors import SYSTEM
from apps.core.principal import Grant
from apps.events.models import Event
from apps.locks.models import LockHealth
from apps.locks.services import lock_create, lock_health_record, lock_health_sweep
from tests.factories import directory as d
from tests.factories.accounts import key_client

pytestmark = pytest.mark.django_db


def _events(name):
    return Event.objects.filter(event_name=name).count()


def test_battery_low_below_20_once_and_cleared_unknown_is_not_low():
    lock = lock_create(display_name="Gate", prop=d.property_create(), actor=SYSTEM)
    health = lock_health_record(lock=lock, source="parqex", actor=SYSTEM, battery_level=None)
    assert health.battery_low is False
    lock_health_record(lock=lock, source="parqex", actor=SYSTEM, battery_level=19)
    lock_health_record(lock=lock, source="parqex", actor=SYSTEM, battery_level=12)
    assert LockHealth.objects.get(lock=lock).battery_low and _events("lock.battery_low") == 1
    lock_health_record(lock=lock, source="parqex", actor=SYSTEM, battery_level=20)
    assert _events("lock.battery_low_cleared") == 1


def test_offline_and_held_open_turn_with_time_in_the_sweep():
    lock = lock_create(display_name="Gate", prop=d.property_create(), actor=SYSTEM)
    now = timezone.now()
    health = lock_health_record(
        lock=lock,
        source="parqex",
        actor=SYSTEM,
        door_state="open",
        door_changed_at=now,
        held_open_after_seconds=900,
        last_contact_at=now,
        now=now,
    )
    assert health.online and not health.held_open and _events("lock.offline_cleared") == 1
    assert lock_health_sweep(now=now + dt.timedelta(minutes=16)) == 1  # held open past 900 s
    assert _events("lock.held_open") == 1
    assert lock_health_sweep(now=now + dt.timedelta(minutes=31)) == 1  # no contact for 30 min
    assert _events("lock.offline") == 1 and not LockHealth.objects.get(lock=lock).online
    lock_health_record(lock=lock, source="parqex", actor=SYSTEM, door_state="closed", last_contact_at=now)
    assert _events("lock.held_open_cleared") == 1


def test_an_unchanged_report_writes_nothing():
    lock = lock_create(display_name="Gate", prop=d.property_create(), actor=SYSTEM)
    seen = timezone.now()
    lock_health_record(lock=lock, source="parqex", actor=SYSTEM, battery_level=50, last_contact_at=seen)
    before = LockHealth.objects.get(lock=lock).updated_at
    lock_health_record(lock=lock, source="parqex", actor=SYSTEM, battery_level=50, last_contact_at=seen)
    assert LockHealth.objects.get(lock=lock).updated_at == before


def test_health_api_and_command(capsys):
    prop = d.property_create()
    lock = lock_create(display_name="Gate", prop=prop, actor=SYSTEM)
    manager = key_client(Grant("manage-access", property_id=prop.pk))
    empty = manager.get(f"/api/v1/locks/{lock.pk}/health").json()["data"]
    assert empty["source"] is None and empty["doorState"] == "unknown" and empty["batteryLevel"] is None
    lock_health_record(lock=lock, source="parqex", actor=SYSTEM, door_state="closed", battery_level=98)
    data = manager.get(f"/api/v1/locks/{lock.pk}/health").json()["data"]
    assert (data["source"], data["doorState"], data["batteryLevel"], data["batteryLow"]) == (
        "parqex",
        "closed",
        98,
        False,
    )
    assert set(data) >= {"lastContactAt", "online", "heldOpen", "stale"}
    other = key_client(Grant("owner", property_id=d.property_create().pk))
    assert other.get(f"/api/v1/locks/{lock.pk}/health").status_code == 404
    call_command("lock_health_sweep")
    assert "turned" in capsys.readouterr().out


def test_property_lock_health_lists_its_locks_pages_and_filters_attention():
    prop, other = d.property_create(), d.property_create()
    gate = lock_create(display_name="Gate", prop=prop, actor=SYSTEM)
    door = lock_create(display_name="Door", prop=prop, actor=SYSTEM)
    lock_create(display_name="Never reported", prop=prop, actor=SYSTEM)
    elsewhere = lock_create(display_name="Elsewhere", prop=other, actor=SYSTEM)
    now = timezone.now()
    lock_health_record(lock=gate, source="parqex", actor=SYSTEM, battery_level=5, last_contact_at=now)
    lock_health_record(lock=door, source="keyhouse", actor=SYSTEM, battery_level=80, last_contact_at=now)
    lock_health_record(lock=elsewhere, source="parqex", actor=SYSTEM, battery_level=5, last_contact_at=now)
    manager = key_client(Grant("manage-access", property_id=prop.pk))
    url = f"/api/v1/properties/{prop.pk}/lock-health"

    listed = manager.get(url).json()["data"]["lockHealth"]
    assert sorted(item["displayName"] for item in listed) == ["Door", "Gate"]
    attention = manager.get(url, {"attention": "true"}).json()["data"]["lockHealth"]
    assert [(item["displayName"], item["batteryLow"]) for item in attention] == [("Gate", True)]
    fine = manager.get(url, {"attention": "false"}).json()["data"]["lockHealth"]
    assert [item["displayName"] for item in fine] == ["Door"]

    first = manager.get(url, {"pageSize": 1}).json()["data"]
    second = manager.get(url, {"pageSize": 1, "pageToken": first["pageToken"]}).json()["data"]
    assert len(first["lockHealth"]) == len(second["lockHealth"]) == 1
    assert first["lockHealth"][0]["lockId"] != second["lockHealth"][0]["lockId"] and second["pageToken"] is None

    assert manager.get(f"/api/v1/properties/{other.pk}/lock-health").status_code == 404
    refused = manager.get(url, {"attention": "maybe"})
    assert refused.status_code == 400 and "attention" in refused.json()["error"]


def test_the_sweep_reads_only_rows_whose_flags_can_turn(django_assert_num_queries):
    prop = d.property_create()
    now = timezone.now()
    for n in range(5):  # closed, recently seen: nothing can turn within the next minutes
        lock = lock_create(display_name=f"Door {n}", prop=prop, actor=SYSTEM)
        lock_health_record(lock=lock, source="parqex", actor=SYSTEM, door_state="closed", last_contact_at=now, now=now)
    with django_assert_num_queries(1):
        assert lock_health_sweep(now=now + dt.timedelta(minutes=5)) == 0
    assert lock_health_sweep(now=now + dt.timedelta(minutes=31)) == 5  # all five go offline
