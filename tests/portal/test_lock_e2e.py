"""End to end at the door: a unit user blocked through the portal API, and a guest whose
window ends, are refused by the reference lock (tests/locks/reference_lock.py) holding the
phone's key, the blocked one after the lock's next sync, the guest offline by the lock's own
clock and dropped from the key map after the expiry sweep."""

from datetime import timedelta

import pytest
from django.utils import timezone

from apps.access import services as access_services
from apps.core.actors import SYSTEM
from apps.core.principal import Grant
from apps.portal import services
from tests.factories import directory as d
from tests.factories.accounts import key_client
from tests.locks.conftest import Phone, lock_client, settle
from tests.locks.reference_lock import ReferenceLock
from tests.portal.conftest import unit_client

pytestmark = pytest.mark.django_db


@pytest.fixture
def door(db):
    prop = d.property_create(time_zone="Europe/London")
    tower = d.area_create(prop, display_name="Tower")
    unit, token = services.unit_create(prop=prop, display_name="Flat 4", parent_id=tower.pk, actor=SYSTEM)
    manager = key_client(Grant("owner", property_id=prop.pk), Grant("provision-lock", property_id=prop.pk))
    lock = ReferenceLock()
    response = manager.post("/api/v1/locks", lock.provision_body(propertyId=str(prop.pk)), format="json")
    lock.apply_command(response.json())
    response = manager.put(f"/api/v1/properties/{prop.pk}/areas/{unit.pk}/install/{lock.lock_id}", {}, format="json")
    assert response.status_code == 200, response.content
    lock.apply_command(response.json())
    api = lock_client(lock)

    def sync():
        response = api.put(f"/api/v1/locks/{lock.lock_id}/sync", lock.sync_body(), format="json")
        assert response.status_code == 200, response.content
        lock.receive_sync(response.json())

    leaseholder = d.user_create(display_name="Lee Holder")
    services.unit_user_create(area=unit, user=leaseholder, user_type="UNIT", actor=SYSTEM)
    return prop, unit, token, lock, sync


def _open(lock, phone):
    return lock.unlock(phone.proof(lock.challenge(), at=lock.now()))


def test_a_user_blocked_in_the_portal_is_denied_at_the_next_sync(door):
    prop, unit, token, lock, sync = door
    kim = d.user_create(display_name="Kim Linked")
    services.unit_user_create(area=unit, user=kim, user_type="LINKED", actor=SYSTEM)
    phone = Phone.provision(kim)
    settle()
    sync()
    assert _open(lock, phone) == (True, "unlock")

    path = f"/api/portal/v1/residents/properties/{prop.pk}/units/users/{kim.pk}"
    assert unit_client(token).put(path, {"status": "BLOCKED"}, format="json").status_code == 200
    settle()
    assert _open(lock, phone) == (True, "unlock")  # offline: the old key map still holds
    sync()
    assert _open(lock, phone) == (False, "unknown-key")


def test_an_expired_guest_is_denied_by_the_locks_clock_and_dropped_after_the_sweep(door):
    prop, unit, token, lock, sync = door
    until = timezone.now() + timedelta(hours=2)
    guest = services.guest_invite(
        area=unit, user_name="Gus Guest", email="gus@example.test", valid_until=until, actor="unit:test"
    )
    phone = Phone.provision(guest.user)
    settle()
    sync()
    assert _open(lock, phone) == (True, "unlock")

    lock.clock_offset += 3 * 3600  # offline, three hours later
    assert _open(lock, phone) == (False, "expired")
    lock.clock_offset -= 3 * 3600
    access_services.grants_expire(now=until + timedelta(seconds=1))
    settle()
    sync()
    assert phone.access.kid not in {e["kid"] for e in lock.key_map["entries"]}
    assert _open(lock, phone) == (False, "unknown-key")
