"""A server restored from a backup never leaves a lock behind (PROTOCOL.md §9.6).

The backup is a real one at test scale: `dumpdata` of the whole database, then `flush` and
`loaddata` as a restore would. The lock is the reference lock, which keeps its own state
across the restore as a door would. Between backup and restore a resident got access and the
lock applied that key map: after the restore the server knows nothing of it, yet its next
map must still reach the lock, or the resident (removed by the restore) would keep opening.
"""

import io

import pytest
from django.core.management import call_command

from apps.events.models import Event
from apps.locks.models import Lock
from tests.factories import directory as d
from tests.locks.conftest import Phone, settle

pytestmark = pytest.mark.django_db(transaction=True)


def _backup() -> str:
    out = io.StringIO()
    call_command("dumpdata", "--all", "--format=json", stdout=out, exclude=["contenttypes", "auth.permission"])
    return out.getvalue()


def _restore(backup: str, tmp_path) -> None:
    call_command("flush", "--no-input")
    path = tmp_path / "backup.json"
    path.write_text(backup)
    call_command("loaddata", str(path))


def _open(world, phone) -> tuple[bool, str]:
    lock = world.lock
    return lock.unlock(phone.proof(lock.challenge(), at=lock.now()))


def test_a_lock_ahead_of_a_restored_server_gets_a_newer_map(world, tmp_path):
    assert world.sync().status_code == 200
    before_backup = world.lock.key_map["keyMapVersion"]
    backup = _backup()

    # after the backup: alice gets in, and the lock applies the map that lets her
    phone = Phone.provision(world.alice)
    d.member_add(world.residents, world.alice)
    settle()
    assert world.sync().status_code == 200
    assert world.sync().status_code == 200  # acknowledges it
    running = world.lock.key_map["keyMapVersion"]
    assert running > before_backup
    assert _open(world, phone) == (True, "unlock")

    _restore(backup, tmp_path)
    assert Lock.objects.get(pk=world.lock.lock_id).signed_key_map_version == before_backup

    # the lock syncs with a version the restored server never signed: accepted, not refused
    response = world.sync()
    assert response.status_code == 200, response.content
    assert Event.objects.filter(event_name="lock.key_map_version_ahead", lock_id=world.lock.lock_id).get().payload == {
        "currentKeyMapVersion": running,
        "serverKeyMapVersion": before_backup,
    }
    settle()
    assert world.sync().status_code == 200

    assert world.lock.key_map["keyMapVersion"] == running + 1, "the new map is above what the lock runs"
    assert _open(world, phone)[0] is False, "the restore took alice's access away; the lock must know"
