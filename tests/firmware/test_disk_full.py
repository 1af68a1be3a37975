"""A firmware upload onto a full disk: a clear 507, no row, no event, no partial file.

The disk is real: a 64 KiB tmpfs mounted for the test (root and mount(2) needed, as in CI),
and an image larger than that.
"""

import subprocess

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from apps.events.models import Event
from apps.firmware.models import FirmwareVersion
from tests.factories import directory as d

pytestmark = pytest.mark.django_db

IMAGE = bytes(range(256)) * 1024  # 256 KiB


@pytest.fixture
def full_disk(tmp_path, settings):
    mount_point = tmp_path / "small-disk"
    mount_point.mkdir()
    mounted = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "size=64k", "tmpfs", str(mount_point)], capture_output=True, text=True
    )
    if mounted.returncode != 0:
        pytest.skip(f"cannot mount a small tmpfs here ({mounted.stderr.strip() or 'not root'})")
    settings.STORAGES = {
        **settings.STORAGES,
        "firmware": {
            "BACKEND": "django.core.files.storage.FileSystemStorage",
            "OPTIONS": {"location": str(mount_point)},
        },
    }
    yield mount_point
    subprocess.run(["umount", str(mount_point)], check=True)


def test_an_upload_onto_a_full_disk_is_a_507_that_leaves_nothing_behind(client_for, full_disk):
    client, _ = client_for("manage-firmware")
    events_before = Event.objects.count()

    response = client.post(
        "/api/v1/firmware/2.0.0/upload",
        {"firmware": SimpleUploadedFile("image.bin", IMAGE)},
        format="multipart",
    )

    body = d.refused(response, 507)
    assert body["data"]["fields"] == {
        "firmware": ["The firmware storage is full: nothing was stored. Free space and upload again."]
    }
    assert not FirmwareVersion.objects.exists()
    assert Event.objects.count() == events_before
    assert [p for p in full_disk.rglob("*") if p.is_file()] == [], "a partial image was left on the disk"
