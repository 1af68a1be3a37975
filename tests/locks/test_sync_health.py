"""Protocol 1.1 (PROTOCOL.md §6.4.1): a Keyhouse lock reports its battery and door in its
signed sync request; the server records them as the lock's health (source `keyhouse`), one
event per transition. Requests without them (protocol 1.0) stay valid and report nothing."""

import datetime as dt

import pytest
from django.utils import timezone

from apps.events.models import Event
from apps.integrations.health import health_sweep
from apps.locks.models import LockHealth
from tests.factories import directory as d
from tests.locks.conftest import settle

pytestmark = pytest.mark.django_db


HEALTH_EVENTS = [
    f"lock.{flag}{cleared}" for flag in ("battery_low", "offline", "held_open", "stale") for cleared in ("", "_cleared")
]


def _names(lock_id) -> list[str]:
    return list(
        Event.objects.filter(lock_id=lock_id, event_name__in=HEALTH_EVENTS)
        .order_by("id")  # uuid7: in the order appended
        .values_list("event_name", flat=True)
    )


@pytest.fixture
def lock_world(world):
    settle()
    assert world.sync().status_code == 200
    return world


def test_a_1_0_request_is_still_accepted_and_reports_no_health(lock_world):
    assert lock_world.sync().status_code == 200
    assert not LockHealth.objects.filter(lock_id=lock_world.lock.lock_id).exists()
    health = lock_world.manager.get(f"/api/v1/locks/{lock_world.lock.lock_id}/health").json()["data"]
    assert health["source"] is None and health["doorState"] == "unknown"


def test_battery_and_door_are_recorded_with_one_event_per_transition(lock_world):
    lock_id = lock_world.lock.lock_id
    assert lock_world.sync(batteryLevel=55, doorState="closed").status_code == 200
    health = lock_world.manager.get(f"/api/v1/locks/{lock_id}/health").json()["data"]
    assert (health["source"], health["batteryLevel"], health["doorState"], health["online"]) == (
        "keyhouse",
        55,
        "closed",
        True,
    )
    assert _names(lock_id) == ["lock.offline_cleared"]
    assert lock_world.sync(batteryLevel=15, doorState="closed").status_code == 200
    assert lock_world.sync(batteryLevel=14, doorState="open").status_code == 200
    assert _names(lock_id) == ["lock.offline_cleared", "lock.battery_low"]
    health = LockHealth.objects.get(lock_id=lock_id)
    assert health.battery_low and health.door_state == "open" and not health.held_open

    # time passes without a sync: held open after KEYHOUSE_LOCK_HELD_OPEN_SECONDS, then offline
    later = timezone.now() + dt.timedelta(seconds=601)
    assert health_sweep(now=later) == 1
    assert health_sweep(now=later + dt.timedelta(minutes=30)) == 1
    assert _names(lock_id)[-2:] == ["lock.held_open", "lock.offline"]

    assert lock_world.sync(batteryLevel=90, doorState="closed").status_code == 200
    assert _names(lock_id)[-3:] == ["lock.battery_low_cleared", "lock.offline_cleared", "lock.held_open_cleared"]


@pytest.mark.parametrize(
    ("member", "value"),
    [("batteryLevel", 101), ("batteryLevel", -1), ("batteryLevel", "50"), ("doorState", "ajar")],
)
def test_a_bad_health_member_is_a_400_naming_it_and_changes_nothing(lock_world, member, value):
    before = lock_world.lock.sync_sequence
    response = lock_world.sync(**{member: value})
    assert member in d.refused(response, 400)["error"]
    assert not LockHealth.objects.filter(lock_id=lock_world.lock.lock_id).exists()
    assert lock_world.lock.sync_sequence == before + 1


def test_the_health_members_are_signed(lock_world):
    body = lock_world.lock.sync_body(batteryLevel=80, doorState="closed")
    body["batteryLevel"] = 10  # changed after signing
    response = lock_world.lock_api.put(f"/api/v1/locks/{lock_world.lock.lock_id}/sync", body, format="json")
    assert "signatures" in d.refused(response, 401)["error"]
    assert not LockHealth.objects.filter(lock_id=lock_world.lock.lock_id).exists()
