"""Firmware test fixtures: a temporary local firmware storage for every test, and a real
S3-compatible server (moto's server mode, a subprocess on loopback) for the S3 tests."""

import socket
import subprocess
import sys
import time
import uuid
from pathlib import Path
from shutil import which

import pytest

from apps.core.actors import SYSTEM
from apps.firmware import services
from apps.firmware.selectors import firmware_version_get

S3_REGION = "us-east-1"
S3_ACCESS_KEY = "keyhouse-test"
S3_SECRET_KEY = "keyhouse-test-secret"


# RFC 8032 §7.1 test 1 private key (docs/FIRMWARE.md test vector).
TEST_SIGNING_KEY = "nWGxne/9WmC6hEr0kuwsxERJxWl7MmkZcDusAxyuf2A="
TEST_SIGNING_KEY_ID = "21fe31dfa154a261"


@pytest.fixture(autouse=True)
def firmware_signing_key(settings):
    """A fixed signing key, so no test depends on the development key in var/."""
    settings.KEYHOUSE_FIRMWARE_SIGNING_KEY = TEST_SIGNING_KEY
    settings.KEYHOUSE_FIRMWARE_SIGNING_KEY_ID = TEST_SIGNING_KEY_ID


@pytest.fixture(autouse=True)
def firmware_local_storage(settings, tmp_path):
    """Images go to a per-test directory, never to var/firmware."""
    location = tmp_path / "firmware"
    settings.STORAGES = {
        **settings.STORAGES,
        "firmware": {"BACKEND": "django.core.files.storage.FileSystemStorage", "OPTIONS": {"location": str(location)}},
    }
    return location


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture(scope="session")
def s3_endpoint():
    """URL of a moto S3 server started for this test session on 127.0.0.1."""
    executable = which("moto_server", path=str(Path(sys.executable).parent)) or which("moto_server")
    if executable is None:
        pytest.skip("moto_server not found: `pip install -r requirements.txt` (moto[server]) runs the S3 tests")
    port = _free_port()
    process = subprocess.Popen(  # noqa: S603 - fixed arguments, our own virtualenv's tool
        [executable, "-H", "127.0.0.1", "-p", str(port)], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE
    )
    deadline = time.monotonic() + 30
    while True:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
            break
        except OSError:
            if process.poll() is not None or time.monotonic() > deadline:
                process.kill()
                error = process.stderr.read().decode(errors="replace")[-2000:]
                pytest.fail(f"moto_server did not start on 127.0.0.1:{port}: {error}")
            time.sleep(0.1)
    yield f"http://127.0.0.1:{port}"
    process.terminate()
    try:
        process.wait(timeout=10)
    except subprocess.TimeoutExpired:
        process.kill()


@pytest.fixture
def s3_storage(settings, s3_endpoint, monkeypatch):
    """The firmware storage switched to S3Storage on a fresh bucket of the moto server.
    Returns the bucket name."""
    import boto3

    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")
    bucket = f"keyhouse-firmware-{uuid.uuid4().hex[:12]}"
    client = boto3.client(
        "s3",
        endpoint_url=s3_endpoint,
        region_name=S3_REGION,
        aws_access_key_id=S3_ACCESS_KEY,
        aws_secret_access_key=S3_SECRET_KEY,
    )
    client.create_bucket(Bucket=bucket)
    settings.STORAGES = {
        **settings.STORAGES,
        "firmware": {
            "BACKEND": "storages.backends.s3.S3Storage",
            "OPTIONS": {
                "bucket_name": bucket,
                "location": "firmware",
                "endpoint_url": s3_endpoint,
                "region_name": S3_REGION,
                "access_key": S3_ACCESS_KEY,
                "secret_key": S3_SECRET_KEY,
                "file_overwrite": False,
                "default_acl": None,
            },
        },
    }
    return bucket


def firmware_upload(version: str, content: bytes):
    """A FirmwareVersion made by the service (event `firmware.uploaded`)."""
    from django.core.files.uploadedfile import SimpleUploadedFile

    services.firmware_version_upload(version=version, upload=SimpleUploadedFile("image.bin", content), actor=SYSTEM)
    return firmware_version_get(version=version)
