"""Lock health from Lockt `/doorstate` (issue 14, "health transitions from each source"): the
battery of a Lockt door turns low and back, one event per transition, over real polls."""

import pytest

from apps.events.models import Event
from apps.integrations import services
from apps.integrations.lockt.emulator.models import Door
from apps.locks.models import LockHealth
from tests.factories.directory import property_create
from tests.factories.integrations import lockt_account
from tests.integrations.test_lockt_sync import _linked, lockt  # noqa: F401 - the emulator fixture

pytestmark = pytest.mark.django_db(transaction=True)

ROOM_1 = 187


def _poll(account):
    run = services.integration_account_poll(account_id=account.pk)
    assert run.status == "succeeded", run.error
    return run


def test_lockt_battery_turns_low_and_back_one_event_each(lockt):  # noqa: F811
    from apps.locks.models import Lock

    account = lockt_account(property_create(), base_url=lockt.url)
    _poll(account)
    room1 = _linked(account, Lock, ROOM_1)
    assert (room1.health.source, room1.health.battery_level, room1.health.battery_low) == ("lockt", 64, False)

    def battery(fraction):
        assert Door.objects.filter(rid=ROOM_1).update(battery_level=fraction) == 1

    def events():
        rows = Event.objects.filter(lock_id=room1.pk, event_name__startswith="lock.battery")
        return list(rows.order_by("id").values_list("event_name", flat=True))

    battery(0.12)
    _poll(account)
    _poll(account)  # the same again: no second event
    health = LockHealth.objects.get(lock=room1)
    assert (health.battery_level, health.battery_low) == (12, True)
    assert events() == ["lock.battery_low"]
    battery(0.9)
    _poll(account)
    assert not LockHealth.objects.get(lock=room1).battery_low
    assert events() == ["lock.battery_low", "lock.battery_low_cleared"]
