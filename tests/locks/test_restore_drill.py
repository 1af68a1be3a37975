"""The restore drill of docs/OPERATIONS.md, run for real on PostgreSQL: `pg_dump` the
database and copy the firmware storage, restore both into a fresh database and directory,
and the protocol still works against the restored server: the reference lock syncs, a phone
syncs and opens its map, the firmware downloads byte for byte, and a revocation made after
the restore reaches the lock.

PostgreSQL only (CI phase 2): it needs `pg_dump`, `pg_restore` and a server to restore into.
"""

import os
import shutil
import subprocess

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection

from apps.access import services as access_services
from apps.core.actors import SYSTEM
from apps.core.principal import Grant
from tests.devices.conftest import PASSWORD, person_client
from tests.devices.factories import device_provision
from tests.factories import directory as d
from tests.factories.accounts import key_client
from tests.locks.conftest import settle

pytestmark = pytest.mark.django_db(transaction=True)

IMAGE = b"keyhouse firmware image " * 100


def _pg(*command: str, database: str) -> None:
    db = connection.settings_dict
    env = {**os.environ, "PGPASSWORD": db["PASSWORD"] or ""}
    target = ["-h", db["HOST"] or "127.0.0.1", "-p", str(db["PORT"] or 5432), "-U", db["USER"], "-d", database]
    subprocess.run([*command, *target], env=env, check=True, capture_output=True, timeout=120)


@pytest.fixture
def firmware_dir(settings, tmp_path):
    location = tmp_path / "firmware"
    settings.STORAGES = {
        **settings.STORAGES,
        "firmware": {"BACKEND": "django.core.files.storage.FileSystemStorage", "OPTIONS": {"location": str(location)}},
    }
    return location


def test_the_restore_drill(world, settings, firmware_dir, tmp_path, fast_password_hashing):
    if connection.vendor != "postgresql" or not shutil.which("pg_dump"):
        pytest.skip("the drill restores a PostgreSQL database (DATABASE_URL) with pg_dump / pg_restore")
    # the live system: a lock in sync, a resident with a phone in sync, a firmware image
    d.member_add(world.residents, world.alice)
    device, phone = device_provision(world.alice)
    settle()
    assert world.sync().status_code == 200
    world.alice.set_password(PASSWORD)
    world.alice.save(update_fields=["password"])
    phone_api = person_client(world.alice)
    phone_url = f"/api/v1/users/{phone.user_id}/devices/{phone.user_device_id}/sync"
    assert phone.receive(phone_api.put(phone_url, phone.sync_body(), format="json").json()) is not None
    firmware_api = key_client(Grant("manage-firmware"))
    upload = {"firmware": SimpleUploadedFile("image.bin", IMAGE)}
    assert firmware_api.post("/api/v1/firmware/3.1.0/upload", upload, format="multipart").status_code == 200

    # the backup: the database with pg_dump, the firmware storage as files
    live, restored = connection.settings_dict["NAME"], connection.settings_dict["NAME"] + "_restored"
    dump = tmp_path / "keyhouse.dump"
    _pg("pg_dump", "--format=custom", f"--file={dump}", database=live)
    shutil.copytree(firmware_dir, tmp_path / "firmware-backup")

    # the restore: a fresh database and a fresh storage directory
    with connection.cursor() as cursor:
        cursor.execute(f'DROP DATABASE IF EXISTS "{restored}"')
        cursor.execute(f'CREATE DATABASE "{restored}"')
    _pg("pg_restore", "--no-owner", "--exit-on-error", str(dump), database=restored)
    settings.STORAGES["firmware"]["OPTIONS"]["location"] = str(tmp_path / "firmware-backup")
    connection.close()
    connection.settings_dict["NAME"] = restored
    try:
        # the protocol works against the restored server
        assert world.sync().status_code == 200
        response = phone_api.put(phone_url, phone.sync_body(), format="json")
        assert response.status_code == 200, response.content
        phone.receive(response.json())
        assert str(world.lock.lock_id) in phone.lock_ids()
        download = firmware_api.get("/api/v1/firmware/3.1.0/download")
        assert b"".join(download.streaming_content) == IMAGE

        # and a revocation made after the restore reaches the lock
        access_services.membership_remove(group=world.residents, user=world.alice, actor=SYSTEM)
        settle()
        assert world.sync().status_code == 200
        assert device.access_key.kid not in {entry["kid"] for entry in world.lock.key_map["entries"]}
    finally:
        connection.close()
        connection.settings_dict["NAME"] = live
        with connection.cursor() as cursor:
            cursor.execute(f'DROP DATABASE IF EXISTS "{restored}"')
