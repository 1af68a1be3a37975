"""A device's first map and a property-wide change that commits while it is built (issue 17).

A property-wide change reaches only devices that already have a stored map row
(services.maps.devices_reached), so a device's first build must make its row visible before it
reads anything, and a change already past that look must finish before the build reads
(PROTOCOL.md §7.5, "The first build of a device"). Each test lets the change commit at the worst
moment and then checks what the phone ends up holding: the change, not a stale map marked
current.

The interleaving tests run on SQLite and PostgreSQL (the change runs inside the build's own
thread, between its reads and its store). The in-flight test needs PostgreSQL: two connections,
the change's transaction open while the sync starts.
"""

import threading

import pytest
from django.db import connection, connections, transaction

from apps.core.actors import SYSTEM
from apps.devices import services
from apps.devices.models import DeviceMap
from apps.devices.services import maps
from apps.events import services as event_services
from apps.events.models import Event
from apps.events.services import event_process
from apps.keys import services as key_services
from tests.devices.conftest import person_client
from tests.devices.factories import device_provision
from tests.factories.access import lock_in

pytestmark = pytest.mark.django_db(transaction=True)

STORED_WAIT = 2.0  # s the in-flight change waits for the sync to store before it commits anyway


@pytest.fixture
def builds(monkeypatch):
    """Device ids whose builds were enqueued; none runs (the worker is behind)."""
    enqueued: list[str] = []
    monkeypatch.setattr(maps, "_enqueue", enqueued.extend)
    return enqueued


@pytest.fixture
def first_sync(world, monkeypatch, builds):
    """Alice's new phone, before its first sync: its `device.provisioned` event not processed yet
    (no stored map row), the property key of A already made (the sync would otherwise write it)."""
    monkeypatch.setattr(event_services, "_enqueue", lambda event_id: None)  # events run when a test says
    key_services.property_key_ensure(property_id=world.prop_a.pk, actor=SYSTEM)
    device, phone = device_provision(world.alice)
    assert not DeviceMap.objects.filter(device_id=device.pk).exists()
    return device, phone, person_client(world.alice)


def _property_change(world) -> str:
    """A lock installed in the Tower (property-wide: `lock.installed`), its events processed as
    the worker would, except the phone's own `device.provisioned`. Returns the new lock's id."""
    door = lock_in(world.tower, "New tower door")
    for event_id in Event.objects.unprocessed().exclude(event_name="device.provisioned").values_list("id", flat=True):
        assert event_process(event_id=event_id).processed_at is not None
    return str(door.pk)


def _sync(client, phone):
    return client.put(
        f"/api/v1/users/{phone.user_id}/devices/{phone.user_device_id}/sync", phone.sync_body(), format="json"
    )


def _phone_syncs_until_answered(client, phone) -> None:
    """Sync until a 200 (a 409 `syncCounter` means a build overtook this one: sign again)."""
    for _ in range(3):
        response = _sync(client, phone)
        if response.status_code == 200:
            phone.receive(response.json())
            return
        assert response.status_code == 409 and "syncCounter" in response.json()["error"], response.content
    pytest.fail("no answer in three syncs")


def _after_compute(monkeypatch, change) -> None:
    """Run `change` once, right after the next map computation read the person's access."""
    real = maps.map_compute

    def compute(*args, **kwargs):
        computed = real(*args, **kwargs)
        monkeypatch.setattr(maps, "map_compute", real)
        change()
        return computed

    monkeypatch.setattr(maps, "map_compute", compute)


def test_a_property_change_committed_while_a_first_sync_computes_reaches_the_phone(world, first_sync, monkeypatch):
    _, phone, client = first_sync
    changed = {}
    _after_compute(monkeypatch, lambda: changed.setdefault("door", _property_change(world)))

    _phone_syncs_until_answered(client, phone)  # the first answer may predate the change ...
    _phone_syncs_until_answered(client, phone)  # ... but the next one must carry it

    assert changed["door"] in phone.lock_ids()


def test_a_property_change_committed_while_the_worker_builds_a_first_map_reaches_the_phone(
    world, first_sync, monkeypatch
):
    device, phone, client = first_sync
    changed = {}
    _after_compute(monkeypatch, lambda: changed.setdefault("door", _property_change(world)))

    services.device_maps_build_pending(actor=SYSTEM)  # the sweep builds the new device's first map
    _phone_syncs_until_answered(client, phone)

    assert changed["door"] in phone.lock_ids()
    stored = DeviceMap.objects.get(device_id=device.pk)
    assert stored.current and stored.version == int(phone.map_version)


@pytest.fixture
def postgres():
    if connection.vendor != "postgresql":
        pytest.skip("needs PostgreSQL (DATABASE_URL=postgres://...): two connections, one transaction left open")


def test_a_property_change_in_flight_when_a_first_sync_starts_reaches_the_phone(
    postgres, world, first_sync, monkeypatch
):
    """The change has looked for the devices it reaches (this one has no row yet) but has not
    committed when the sync starts: the sync must not store a map computed before that commit
    as current. The change commits once the sync has stored (or after STORED_WAIT, when the
    sync waits for it)."""
    _, phone, client = first_sync
    looked, stored, changed, failed = threading.Event(), threading.Event(), {}, []
    real_store = maps.map_store

    def store(*args, **kwargs):
        real_store(*args, **kwargs)
        stored.set()

    monkeypatch.setattr(maps, "map_store", store)

    def change():
        try:
            with transaction.atomic():
                changed["door"] = _property_change(world)
                looked.set()
                stored.wait(STORED_WAIT)
        except Exception as exc:  # noqa: BLE001 - reported by the test thread
            failed.append(exc)
            looked.set()
        finally:
            connections.close_all()

    other = threading.Thread(target=change)
    other.start()
    assert looked.wait(30)
    _phone_syncs_until_answered(client, phone)
    other.join(30)
    assert not failed and not other.is_alive()
    _phone_syncs_until_answered(client, phone)

    assert changed["door"] in phone.lock_ids()
