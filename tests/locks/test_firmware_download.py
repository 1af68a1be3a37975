"""Firmware meets lock credentials: a lock signed in with its own secret downloads the firmware
it must run (and only that), over HTTP, and reports what it runs at sync (issue 7 × issue 6)."""

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from apps.core.actors import SYSTEM
from apps.firmware import services as firmware_services

IMAGE = bytes(range(256)) * 64


@pytest.fixture
def firmware_storage(settings, tmp_path):
    settings.STORAGES = {
        **settings.STORAGES,
        "firmware": {"BACKEND": "django.core.files.storage.FileSystemStorage", "OPTIONS": {"location": str(tmp_path)}},
    }


def _upload(version: str, content: bytes):
    firmware, _ = firmware_services.firmware_version_upload(
        version=version, upload=SimpleUploadedFile("image.bin", content), actor=SYSTEM
    )
    return firmware


def test_a_lock_downloads_the_firmware_it_must_run_and_nothing_else(world, firmware_storage):
    required = _upload("2.0.0", IMAGE)
    _upload("1.9.0", b"older image")
    firmware_services.firmware_assign(firmware_version=required, scope="property", prop=world.prop, actor=SYSTEM)

    response = world.lock_api.get("/api/v1/firmware/2.0.0/download")
    assert response.status_code == 200
    assert b"".join(response.streaming_content) == IMAGE
    assert response["ETag"].strip('"') == required.sha256

    other = world.lock_api.get("/api/v1/firmware/1.9.0/download")
    assert other.status_code == 404
    assert world.lock_api.post("/api/v1/firmware/3.0.0/upload", {}).status_code == 403

    lock = world.manager.get(f"/api/v1/locks/{world.lock.lock_id}").json()["data"]
    assert lock["private"]["requiredFirmwareVersion"] == "2.0.0"
