"""Firmware services: upload (hash, store, sign, event), duplicates, assign / unassign."""

import base64
import hashlib

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import IntegrityError

from apps.core.actors import SYSTEM
from apps.core.exceptions import ApplicationError, ConflictError
from apps.events.models import Event
from apps.firmware import services, signing
from apps.firmware.models import FirmwareAssignment, FirmwareVersion
from apps.locks import services as lock_services
from tests.factories import directory as d
from tests.firmware.conftest import TEST_SIGNING_KEY, TEST_SIGNING_KEY_ID, firmware_upload

pytestmark = pytest.mark.django_db


def _upload(version, content):
    return services.firmware_version_upload(version=version, upload=SimpleUploadedFile("x.bin", content), actor=SYSTEM)


def test_upload_stores_hashes_signs_and_appends_one_event(firmware_local_storage):
    content = b"\x7fELF" + bytes(range(256)) * 50
    firmware, created = _upload("2.0.1-rc.1", content)

    assert created
    assert firmware.sha256 == hashlib.sha256(content).hexdigest() and firmware.size == len(content)
    assert firmware.storage_name == f"2.0.1-rc.1/{firmware.sha256}.bin"
    assert (firmware_local_storage / firmware.storage_name).read_bytes() == content
    assert (firmware.s3_bucket, firmware.s3_key) == ("", "")
    public = signing.public_key(signing.parse_private_key(TEST_SIGNING_KEY))
    manifest = signing.manifest_bytes(version="2.0.1-rc.1", sha256=firmware.sha256, size=firmware.size)
    assert signing.verify(public, manifest, base64.b64decode(firmware.manifest_signature))
    assert firmware.signing_key_id == TEST_SIGNING_KEY_ID
    (event,) = Event.objects.filter(event_name="firmware.uploaded")
    assert event.firmware_version == "2.0.1-rc.1"
    assert event.payload == {
        "sha256": firmware.sha256,
        "size": len(content),
        "storage": "local",
        "keyId": TEST_SIGNING_KEY_ID,
    }


def test_same_bytes_again_return_the_existing_version_and_write_nothing(firmware_local_storage):
    first, _ = _upload("1.0", b"image")
    again, created = _upload("1.0", b"image")
    assert not created and again.pk == first.pk
    assert Event.objects.filter(event_name="firmware.uploaded").count() == 1
    assert [p.name for p in (firmware_local_storage / "1.0").iterdir()] == [f"{first.sha256}.bin"]


def test_other_bytes_under_a_taken_version_are_a_conflict(firmware_local_storage):
    first, _ = _upload("1.0", b"image")
    with pytest.raises(ConflictError) as refused:
        _upload("1.0", b"other image")
    assert refused.value.extra == {"firmwareVersion": "1.0", "sha256": first.sha256, "size": 5}
    assert FirmwareVersion.objects.get().sha256 == first.sha256
    assert len(list((firmware_local_storage / "1.0").iterdir())) == 1


def test_a_failed_write_removes_the_stored_file(firmware_local_storage, monkeypatch):
    def broken(**kwargs):
        raise IntegrityError("simulated")

    monkeypatch.setattr(services, "_version_create", broken)
    with pytest.raises(IntegrityError):
        _upload("1.0", b"image")
    assert not list(firmware_local_storage.rglob("*.bin"))
    assert not Event.objects.filter(event_name="firmware.uploaded").exists()


@pytest.mark.parametrize(
    ("version", "content", "field", "status"),
    [("bad_version", b"x", "version", 400), ("1.0", b"", "firmware", 400), ("1.0", b"x" * 11, "firmware", 413)],
)
def test_upload_refusals(settings, firmware_local_storage, version, content, field, status):
    settings.KEYHOUSE_FIRMWARE_MAX_BYTES = 10
    with pytest.raises(ApplicationError) as refused:
        _upload(version, content)
    assert refused.value.status == status and list(refused.value.fields) == [field]
    assert not FirmwareVersion.objects.exists()
    assert not list(firmware_local_storage.rglob("*.bin"))


def test_assign_replaces_per_target_and_unassign_removes_with_events():
    prop = d.property_create()
    lock = lock_services.lock_create(display_name="Door", prop=prop, actor=SYSTEM)
    one, two = firmware_upload("1", b"1"), firmware_upload("2", b"2")

    services.firmware_assign(firmware_version=one, scope="lock", lock=lock, actor=SYSTEM)
    services.firmware_assign(firmware_version=one, scope="lock", lock=lock, actor=SYSTEM)  # no change, no event
    services.firmware_assign(firmware_version=two, scope="lock", lock=lock, actor=SYSTEM)

    assert FirmwareAssignment.objects.get(scope="lock", lock=lock).firmware_version == two
    assigned = list(Event.objects.filter(event_name="firmware.assigned").order_by("id"))
    assert [(e.firmware_version, e.lock_id, e.property_id, e.payload) for e in assigned] == [
        ("1", lock.pk, prop.pk, {"scope": "lock", "previousVersion": None}),
        ("2", lock.pk, prop.pk, {"scope": "lock", "previousVersion": "1"}),
    ]

    removed = services.firmware_unassign(scope="lock", lock=lock, actor=SYSTEM)
    assert removed.firmware_version == two
    assert services.firmware_unassign(scope="lock", lock=lock, actor=SYSTEM) is None  # nothing there: no event
    (unassigned,) = Event.objects.filter(event_name="firmware.unassigned")
    assert (unassigned.firmware_version, unassigned.lock_id, unassigned.payload) == ("2", lock.pk, {"scope": "lock"})
    assert not FirmwareAssignment.objects.exists()


def test_area_assignments_record_the_area_property_and_events_name_both():
    prop = d.property_create()
    area = d.area_create(prop)
    services.firmware_assign(firmware_version=firmware_upload("1", b"1"), scope="area", area=area, actor=SYSTEM)
    row = FirmwareAssignment.objects.get()
    assert (row.area_id, row.property_id, row.lock_id) == (area.pk, prop.pk, None)
    event = Event.objects.get(event_name="firmware.assigned")
    assert (event.area_id, event.property_id) == (area.pk, prop.pk)


@pytest.mark.parametrize(
    ("scope", "given", "field"),
    [
        ("lock", {}, "lockId"),
        ("area", {}, "areaId"),
        ("property", {}, "propertyId"),
        ("global", {"prop": True}, "propertyId"),
        ("property", {"prop": True, "lock": True}, "lockId"),
        ("planet", {}, "scope"),
    ],
)
def test_wrong_target_combinations_are_refused(scope, given, field):
    prop = d.property_create()
    objects = {"prop": prop, "lock": lock_services.lock_create(display_name="D", prop=prop, actor=SYSTEM)}
    with pytest.raises(ApplicationError) as refused:
        services.firmware_assign(
            firmware_version=firmware_upload("1", b"1"),
            scope=scope,
            actor=SYSTEM,
            **{name: objects[name] for name in given},
        )
    assert list(refused.value.fields) == [field]
    assert not FirmwareAssignment.objects.exists()


def test_the_database_allows_one_assignment_per_target():
    version = firmware_upload("1", b"1")
    FirmwareAssignment.objects.create(firmware_version=version, scope="global")
    with pytest.raises(IntegrityError):
        FirmwareAssignment.objects.create(firmware_version=version, scope="global")
