"""Firmware admin: upload through the service, assignments per scope (assign / replace /
unassign through the services), and the per-property table of locks."""

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from apps.core.actors import SYSTEM
from apps.events.models import Event
from apps.firmware import services
from apps.firmware.models import FirmwareAssignment, FirmwareVersion
from apps.locks import services as lock_services
from apps.locks.models import Lock
from tests.factories import directory as d
from tests.firmware.conftest import firmware_upload

pytestmark = pytest.mark.django_db

VERSIONS = "/admin/firmware/firmwareversion/"
ASSIGNMENTS = "/admin/firmware/firmwareassignment/"


def test_upload_through_the_admin(staff_client, staff_user):
    image = SimpleUploadedFile("fw.bin", b"admin upload")
    response = staff_client.post(f"{VERSIONS}add/", {"version": "5.0", "image": image})
    assert response.status_code == 302, response.content[:2000]
    firmware = FirmwareVersion.objects.get()
    assert (firmware.version, firmware.size, firmware.last_modified_by) == ("5.0", 12, f"staff:{staff_user.pk}")
    assert Event.objects.filter(event_name="firmware.uploaded", firmware_version="5.0").count() == 1

    listing = staff_client.get(VERSIONS).content.decode()
    assert "5.0" in listing and "Locks: required vs reported" in listing
    page = staff_client.get(f"{VERSIONS}{firmware.pk}/change/").content.decode()
    assert firmware.sha256 in page and "not assigned anywhere" in page


def test_admin_upload_refusals_show_on_the_form(staff_client, settings):
    settings.KEYHOUSE_FIRMWARE_MAX_BYTES = 4
    too_big = staff_client.post(f"{VERSIONS}add/", {"version": "5.0", "image": SimpleUploadedFile("a", b"12345")})
    assert too_big.status_code == 200 and "larger than the limit" in too_big.content.decode()
    bad = staff_client.post(f"{VERSIONS}add/", {"version": "5_0", "image": SimpleUploadedFile("a", b"1")})
    assert bad.status_code == 200 and "Invalid firmware version" in bad.content.decode()
    firmware_upload("5.0", b"1234")
    other = staff_client.post(f"{VERSIONS}add/", {"version": "5.0", "image": SimpleUploadedFile("a", b"4321")})
    assert other.status_code == 200 and "already exists with different content" in other.content.decode()
    assert FirmwareVersion.objects.count() == 1


def test_assign_replace_and_unassign_in_the_admin(staff_client):
    prop = d.property_create(display_name="Harbour House")
    area = d.area_create(prop)
    one, two = firmware_upload("1.0", b"1"), firmware_upload("2.0", b"2")

    def add(**fields):
        return staff_client.post(
            f"{ASSIGNMENTS}add/", {k: str(v.pk) if hasattr(v, "pk") else v for k, v in fields.items()}
        )

    assert add(firmware_version=one, scope="property", property=prop).status_code == 302
    assert add(firmware_version=two, scope="property", property=prop).status_code == 302  # replaces
    assignment = FirmwareAssignment.objects.get()
    assert (assignment.scope, assignment.property_id, assignment.firmware_version) == ("property", prop.pk, two)

    missing = add(firmware_version=one, scope="area")
    assert missing.status_code == 200 and "Required when scope is area" in missing.content.decode()
    assert add(firmware_version=one, scope="area", area=area).status_code == 302
    assert FirmwareAssignment.objects.get(scope="area").property_id == prop.pk

    listing = staff_client.get(ASSIGNMENTS).content.decode()
    assert "Harbour House" in listing and "2.0" in listing

    response = staff_client.post(f"{ASSIGNMENTS}{assignment.pk}/delete/", {"post": "yes"})
    assert response.status_code == 302
    assert not FirmwareAssignment.objects.filter(scope="property").exists()
    names = list(Event.objects.filter(event_name__startswith="firmware.a").values_list("event_name", flat=True))
    assert names == ["firmware.assigned"] * 3
    assert Event.objects.filter(event_name="firmware.unassigned", property_id=prop.pk).count() == 1


def test_lock_table_shows_required_vs_reported(staff_client):
    prop = d.property_create(display_name="Harbour House")
    lobby = d.area_create(prop, display_name="Lobby", area_type="common")
    front = lock_services.lock_install(
        lock=lock_services.lock_create(display_name="Front door", prop=prop, actor=SYSTEM), area=lobby, actor=SYSTEM
    )
    lock_services.lock_create(display_name="Spare lock", prop=prop, actor=SYSTEM)
    Lock.objects.filter(pk=front.pk).update(current_firmware_version="1.0")  # what the lock reported (sync)
    services.firmware_assign(firmware_version=firmware_upload("1.0", b"1"), scope="property", prop=prop, actor=SYSTEM)
    services.firmware_assign(firmware_version=firmware_upload("2.0", b"2"), scope="area", area=lobby, actor=SYSTEM)

    chooser = staff_client.get(f"{VERSIONS}locks/")
    assert chooser.status_code == 200 and "Harbour House" in chooser.content.decode()
    page = staff_client.get(f"{VERSIONS}locks/", {"property": str(prop.pk)}).content.decode()
    table = page.split('id="lock-firmware"', 1)[1]
    front_row, spare_row = table.split("<tr class=")[1:3]
    assert "Front door" in front_row and "<td>2.0</td>" in front_row and f"area {lobby.pk}" in front_row
    assert "<td>1.0</td>" in front_row and "update pending" in front_row
    assert "Spare lock" in spare_row and "<td>1.0</td>" in spare_row and "unknown" in spare_row
    assert "Required for the property as a whole: <strong>1.0</strong>" in page
    assert staff_client.get(f"{VERSIONS}locks/", {"property": "nonsense"}).status_code == 200
