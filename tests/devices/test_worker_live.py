"""Device maps built by a REAL Celery worker over Redis (PROTOCOL.md §7.5, "Built once per version").

A membership change commits; its event goes through Redis to a live worker (tests/events/
conftest.py starts it on the committed test database), which derives the person's access and
enqueues the device's map build on the `keymaps` queue, and builds it; the next syncUserDevice
answers that stored map without computing one. Runs when REDIS_URL is set and the database is
PostgreSQL (`.ci/run` phase 2); skipped otherwise.
"""

import time

import pytest

from apps.devices.models import DeviceMap
from apps.devices.services import maps
from apps.events.models import Event
from tests.devices.conftest import person_client
from tests.devices.factories import device_provision
from tests.events.conftest import celery_worker_process, live_workers, redis_broker  # noqa: F401 - fixtures
from tests.factories import directory as d
from tests.factories.access import lock_in

pytestmark = [pytest.mark.celery_worker, pytest.mark.django_db(transaction=True)]

BUILD_TIMEOUT = 30.0


def _sync(client, phone):
    response = client.put(
        f"/api/v1/users/{phone.user_id}/devices/{phone.user_device_id}/sync", phone.sync_body(), format="json"
    )
    assert response.status_code == 200, response.content
    return response.json()


def _wait_built(device, version: int, worker) -> DeviceMap:
    """Poll the committed rows until the worker processed every event and stored a current map
    of `version` for the device."""
    deadline = time.monotonic() + BUILD_TIMEOUT
    while True:
        stored = DeviceMap.objects.filter(device_id=device.pk).first()
        settled = not Event.objects.unprocessed().exists()
        if settled and stored is not None and stored.current and stored.version == version:
            return stored
        if not worker.alive():
            pytest.fail(f"celery worker died (exit {worker.process.returncode}):\n{worker.log_tail()}")
        if time.monotonic() > deadline:
            pytest.fail(f"map {version} not built by the live worker in {BUILD_TIMEOUT:.0f}s:\n{worker.log_tail()}")
        time.sleep(0.2)


def test_a_membership_change_is_built_by_the_worker_and_the_next_sync_answers_it(
    world,
    celery_worker_process,  # noqa: F811 - the fixture imported from tests/events/conftest.py
    monkeypatch,
):
    pool_staff = d.group_create(world.prop_a, display_name="Pool staff")
    pool = d.area_create(
        world.prop_a,
        display_name="Pool",
        area_type="common",
        access_list=[{"accessType": "group", "userGroupId": str(pool_staff.pk)}],
    )
    pool_door = lock_in(pool, "Pool door")
    device, phone = device_provision(world.alice)
    _wait_built(device, 1, celery_worker_process)  # the worker built the new device's first map
    client = person_client(world.alice)
    phone.receive(_sync(client, phone))
    assert phone.map_version == "1" and str(pool_door.pk) not in phone.lock_ids()

    logged = len(celery_worker_process.log_path.read_text(errors="replace"))

    d.member_add(pool_staff, world.alice)  # commits: `group.member_added` goes to the worker

    stored = _wait_built(device, 2, celery_worker_process)
    log = celery_worker_process.log_path.read_text(errors="replace")[logged:]  # since the change
    assert "Task apps.events.tasks.event_process[" in log
    assert "Task apps.devices.tasks.device_maps_build[" in log

    def no_inline_build(*args, **kwargs):
        raise AssertionError("the sync computed a map the worker had built")

    monkeypatch.setattr(maps, "map_compute", no_inline_build)
    envelope = _sync(client, phone)

    assert envelope["data"]["userAccessMapVersion"] == "2"
    assert envelope["data"]["encryptedUserAccessMapEntries"] == [stored.sealed]
    assert phone.receive(envelope)["userAccessMapVersion"] == "2"
    assert str(pool_door.pk) in phone.lock_ids()
