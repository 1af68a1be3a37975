"""Staff admin for devices: per person, last sync and versions, rename and deprovision
through the service (each leaves its event), no add or delete."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from apps.devices.models import UserDevice
from apps.events.models import Event
from tests.devices.factories import device_provision
from tests.factories import directory as d

pytestmark = pytest.mark.django_db
DEVICES = "/admin/devices/userdevice/"


def test_changelist_shows_devices_per_person_at_a_fixed_query_count(staff_client):
    alice, bob = d.user_create(display_name="Alice"), d.user_create(display_name="Bob")
    device_provision(alice, display_name="Alice's phone")
    device_provision(bob, display_name="Bob's phone")
    response = staff_client.get(DEVICES)
    assert response.status_code == 200
    page = response.content.decode()
    assert "Alice&#x27;s phone" in page and "Bob&#x27;s phone" in page
    assert f"?user__id__exact={alice.pk}" in page  # the person column filters their devices
    assert '<td class="field-device_type">iOS</td>' in page and "Ios" not in page  # as Apple spells it

    mine = staff_client.get(DEVICES, {"user__id__exact": alice.pk}).content.decode()
    assert "Alice&#x27;s phone" in mine and "Bob&#x27;s phone" not in mine

    with CaptureQueriesContext(connection) as few:
        staff_client.get(DEVICES)
    for n in range(5):
        device_provision(d.user_create(), display_name=f"Phone {n}")
    with CaptureQueriesContext(connection) as many:
        staff_client.get(DEVICES)
    assert len(many.captured_queries) == len(few.captured_queries)


def test_change_page_shows_keys_and_sync_and_renames_through_the_service(staff_client):
    device, phone = device_provision(d.user_create())
    page = staff_client.get(f"{DEVICES}{device.pk}/change/").content.decode()
    assert phone.access.kid in page and phone.seal.kid in page
    response = staff_client.post(f"{DEVICES}{device.pk}/change/", {"display_name": "Renamed"})
    assert response.status_code == 302
    device.refresh_from_db()
    assert device.display_name == "Renamed" and device.last_modified_by.startswith("staff:")
    assert Event.objects.filter(event_name="device.updated", user_device_id=device.pk).exists()


def test_deprovision_action_calls_the_service(staff_client):
    device, _ = device_provision(d.user_create())
    response = staff_client.post(DEVICES, {"action": "deprovision", "_selected_action": [str(device.pk)]})
    assert response.status_code == 302
    device = UserDevice.objects.get(pk=device.pk)
    assert device.deprovisioned_at is not None and device.type_state == "deleted"
    assert Event.objects.filter(event_name="device.deprovisioned", user_device_id=device.pk).count() == 1


def test_no_add_and_no_delete(staff_client):
    device, _ = device_provision(d.user_create())
    assert staff_client.get(f"{DEVICES}add/").status_code == 403
    assert staff_client.get(f"{DEVICES}{device.pk}/delete/").status_code == 403
