"""syncLock keeps the lock's and the property's keys per process (keys.kept) while KeyVersion is
unchanged: a repeat sync reads no key, and a key's change, made here or in another process,
reaches the very next sync."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from apps.accounts.models import CredentialVersion
from apps.core.actors import SYSTEM
from apps.core.choices import EntityTypeState
from apps.firmware.assignment_cache import assignment_cache_clear
from apps.firmware.models import FirmwareAssignmentVersion
from apps.keys import services as key_services
from apps.keys.choices import KeyKeyMode, KeyOwnerType
from apps.keys.kept import keys_kept_clear
from apps.keys.models import Key, KeyVersion
from tests.factories import directory as d
from tests.locks.conftest import ok_signed
from tests.locks.test_sync import synced  # noqa: F401 - the fixture


@pytest.fixture
def kept(synced):  # noqa: F811
    """The setup as if committed long ago: in production each request commits, so no change of
    this process is pending (pytest-django's transaction never runs on-commit callbacks)."""
    for counter in (KeyVersion, FirmwareAssignmentVersion, CredentialVersion):
        counter.objects.get_or_create(pk=1)  # a transactional test may have flushed them
    connection.run_on_commit.clear()
    keys_kept_clear()
    assignment_cache_clear()
    world, _ = synced
    ok_signed(world.sync())  # reads the keys and keeps them
    return world


def _lock_key(world) -> Key:
    return Key.objects.get(
        owner_type=KeyOwnerType.LOCK,
        owner_id=world.lock.lock_id,
        key_mode=KeyKeyMode.SIGN_VERIFY,
        type_state=EntityTypeState.ACTIVE,
    )


def _deactivate_in_sql(key: Key) -> None:
    """The row changed as another process's write would: no model code runs here."""
    key_id = Key._meta.pk.get_db_prep_value(key.pk, connection)
    with connection.cursor() as cursor:
        cursor.execute("UPDATE keys_key SET type_state = %s WHERE id = %s", [EntityTypeState.INACTIVE, key_id])


def _key_queries(captured) -> list:
    return [q for q in captured.captured_queries if '"keys_key"' in q["sql"]]


def test_a_repeat_sync_reads_no_key(kept):
    with CaptureQueriesContext(connection) as captured:
        ok_signed(kept.sync())
    assert _key_queries(captured) == []
    assert len(captured.captured_queries) == 3  # the credential, the UPDATE, the counters


def test_a_key_deactivated_in_this_process_refuses_the_next_sync(kept):
    key_services.key_deactivate(key=_lock_key(kept), actor=SYSTEM)
    assert "not signed by this lock's lockKey" in d.refused(kept.sync(), 401)["error"]


def test_a_key_changed_by_another_process_refuses_the_next_sync(kept):
    """Another process's change: the row and the counter change in the database, nothing in
    this process is told. The copy is not used once the counter moved."""
    _deactivate_in_sql(_lock_key(kept))
    with connection.cursor() as cursor:
        cursor.execute("UPDATE keys_keyversion SET value = value + 1 WHERE id = 1")
    assert "not signed by this lock's lockKey" in d.refused(kept.sync(), 401)["error"]


def test_without_the_counter_the_copy_would_be_used(kept):
    """What the counter is for: the same change without it is not seen (so the test above
    does exercise the copy)."""
    _deactivate_in_sql(_lock_key(kept))
    ok_signed(kept.sync())


def test_every_bulk_write_of_keys_raises_the_counter(kept):
    before = KeyVersion.objects.get(pk=1).value
    Key.objects.filter(pk=_lock_key(kept).pk).update(last_modified_by="someone")
    assert KeyVersion.objects.get(pk=1).value == before + 1
    Key.objects.filter(pk__in=[]).update(last_modified_by="nobody")  # nothing written
    assert KeyVersion.objects.get(pk=1).value == before + 1


def test_the_manager_offers_no_delete_of_every_key():
    """KeyQuerySet overrides delete to raise the counter; like QuerySet's own it stays off the
    manager, so `Key.objects.delete()` (every key at once) does not exist."""
    assert not hasattr(Key.objects, "delete")
