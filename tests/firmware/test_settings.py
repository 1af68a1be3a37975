"""Firmware settings read from the environment: the signing key rule and the storage choice.

Each case imports config.settings in a fresh interpreter with its own environment."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.firmware.conftest import TEST_SIGNING_KEY, TEST_SIGNING_KEY_ID

ROOT = Path(__file__).resolve().parents[2]
PRINT = (
    "import json, django; django.setup(); from django.conf import settings as s; "
    "print(json.dumps({'storage': s.STORAGES['firmware'], 'keyId': s.KEYHOUSE_FIRMWARE_SIGNING_KEY_ID, "
    "'key': s.KEYHOUSE_FIRMWARE_SIGNING_KEY, 'max': s.KEYHOUSE_FIRMWARE_MAX_BYTES}))"
)


def _settings(tmp_path, **env) -> subprocess.CompletedProcess:
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("KEYHOUSE_", "DEBUG", "SECRET_KEY"))}
    clean.update(DJANGO_SETTINGS_MODULE="config.settings", KEYHOUSE_VAR_DIR=str(tmp_path / "var"), **env)
    return subprocess.run(  # noqa: S603 - our own interpreter and a fixed script
        [sys.executable, "-c", PRINT], cwd=ROOT, env=clean, capture_output=True, text=True, timeout=60
    )


PRODUCTION = {
    "DEBUG": "false",
    "SECRET_KEY": "x" * 50,
    "KEYHOUSE_SECRET_PEPPERS": "1:" + "p" * 32,
    "KEYHOUSE_KEK_RING": "1:AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=",  # docs/PROTOCOL.md §5
}


def test_debug_off_refuses_to_start_without_a_signing_key(tmp_path):
    result = _settings(tmp_path, **PRODUCTION)
    assert result.returncode != 0
    assert "KEYHOUSE_FIRMWARE_SIGNING_KEY" in result.stderr
    assert not (tmp_path / "var" / "firmware-signing-key").exists()


def test_debug_off_with_a_key_starts_and_derives_the_key_id(tmp_path):
    result = _settings(tmp_path, **PRODUCTION, KEYHOUSE_FIRMWARE_SIGNING_KEY=TEST_SIGNING_KEY)
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["keyId"] == TEST_SIGNING_KEY_ID


def test_key_from_a_file_and_an_explicit_key_id(tmp_path):
    key_file = tmp_path / "key"
    key_file.write_text(TEST_SIGNING_KEY + "\n")
    result = _settings(
        tmp_path, KEYHOUSE_FIRMWARE_SIGNING_KEY_FILE=str(key_file), KEYHOUSE_FIRMWARE_SIGNING_KEY_ID="fw-2026"
    )
    out = json.loads(result.stdout)
    assert (out["key"], out["keyId"]) == (TEST_SIGNING_KEY, "fw-2026")


@pytest.mark.parametrize("bad", ["not-base64!", "c2hvcnQ="])
def test_a_malformed_key_is_refused_in_every_mode(tmp_path, bad):
    result = _settings(tmp_path, KEYHOUSE_FIRMWARE_SIGNING_KEY=bad)
    assert result.returncode != 0 and "KEYHOUSE_FIRMWARE_SIGNING_KEY" in result.stderr


def test_development_generates_a_key_once_under_var(tmp_path):
    first, second = _settings(tmp_path), _settings(tmp_path)
    assert first.returncode == 0, first.stderr
    assert json.loads(first.stdout)["key"] == json.loads(second.stdout)["key"]
    assert (tmp_path / "var" / "firmware-signing-key").stat().st_mode & 0o777 == 0o600


def test_local_storage_by_default_and_s3_when_a_bucket_is_named(tmp_path):
    local = json.loads(_settings(tmp_path).stdout)
    assert local["storage"] == {
        "BACKEND": "django.core.files.storage.FileSystemStorage",
        "OPTIONS": {"location": str(tmp_path / "var" / "firmware")},
    }
    assert local["max"] == 64 * 1024 * 1024
    s3 = _settings(
        tmp_path,
        KEYHOUSE_FIRMWARE_S3_BUCKET="acme-firmware",
        KEYHOUSE_FIRMWARE_S3_ENDPOINT_URL="http://127.0.0.1:9000",
        KEYHOUSE_FIRMWARE_S3_REGION="eu-west-1",
        KEYHOUSE_FIRMWARE_S3_ADDRESSING_STYLE="path",
        KEYHOUSE_FIRMWARE_S3_ACCESS_KEY_ID="AKIA",
        KEYHOUSE_FIRMWARE_S3_SECRET_ACCESS_KEY="secret",
        KEYHOUSE_FIRMWARE_MAX_BYTES="1000",
    )
    out = json.loads(s3.stdout)
    assert out["max"] == 1000
    assert out["storage"] == {
        "BACKEND": "storages.backends.s3.S3Storage",
        "OPTIONS": {
            "bucket_name": "acme-firmware",
            "location": "firmware",
            "endpoint_url": "http://127.0.0.1:9000",
            "region_name": "eu-west-1",
            "addressing_style": "path",
            "access_key": "AKIA",
            "secret_key": "secret",
            "file_overwrite": False,
            "default_acl": None,
        },
    }
