"""The embedded SQLite database under concurrent writers (the `make run` default).

Two connections each run the shape of a sync: read a row inside a transaction, then write it.
With SQLite's default deferred transactions in WAL mode, the one that read first fails at once
with "database is locked" when the other wrote in between (the busy timeout does not apply), so
two locks syncing at once answered 500s. `SQLITE_OPTIONS` (config/settings.py) begins every
transaction IMMEDIATE: the second writer waits its turn and both succeed.
"""

import threading
from contextlib import contextmanager

from django.conf import settings
from django.db import connections, transaction
from django.db.backends.sqlite3.base import DatabaseWrapper

ALIAS = "concurrency"


@contextmanager
def _atomic(path, options):
    """`transaction.atomic` (what the services use) on a connection of this thread's own."""
    connection = _connection(path, options)
    connections[ALIAS] = connection  # thread-local: each worker thread has its own
    try:
        with transaction.atomic(using=ALIAS), connection.cursor() as cursor:
            yield cursor
    finally:
        connection.close()
        del connections[ALIAS]


def _connection(path, options):
    return DatabaseWrapper(
        {
            "NAME": str(path),
            "OPTIONS": dict(options),
            "CONN_MAX_AGE": 0,
            "CONN_HEALTH_CHECKS": False,
            "AUTOCOMMIT": True,
            "ATOMIC_REQUESTS": False,
            "TIME_ZONE": None,
            "USER": "",
            "PASSWORD": "",
            "HOST": "",
            "PORT": "",
            "TEST": {},
        },
        alias=ALIAS,
    )


def _read_then_write_concurrently(path, options) -> list:
    """A reads the counter, B then increments it and commits, then A writes: errors seen."""
    setup = _connection(path, options)
    with setup.cursor() as cursor:
        cursor.execute("CREATE TABLE counter (id INTEGER PRIMARY KEY, value INTEGER)")
        cursor.execute("INSERT INTO counter VALUES (1, 0)")
    setup.close()

    a_has_read, b_is_trying = threading.Event(), threading.Event()
    errors: list = []

    def worker_a():
        try:
            with _atomic(path, options) as cursor:
                cursor.execute("SELECT value FROM counter WHERE id = 1")
                (value,) = cursor.fetchone()
                a_has_read.set()
                b_is_trying.wait(5)
                threading.Event().wait(0.3)  # give B the chance to write in between
                cursor.execute("UPDATE counter SET value = %s WHERE id = 1", [value + 1])
        except Exception as exc:  # noqa: BLE001 - the error is the observation
            errors.append(("A", str(exc)))
        finally:
            a_has_read.set()

    def worker_b():
        a_has_read.wait(5)
        b_is_trying.set()
        try:
            with _atomic(path, options) as cursor:
                cursor.execute("SELECT value FROM counter WHERE id = 1")
                (value,) = cursor.fetchone()
                cursor.execute("UPDATE counter SET value = %s WHERE id = 1", [value + 1])
        except Exception as exc:  # noqa: BLE001
            errors.append(("B", str(exc)))

    threads = [threading.Thread(target=worker_a), threading.Thread(target=worker_b)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)

    check = _connection(path, options)
    with check.cursor() as cursor:
        cursor.execute("SELECT value FROM counter WHERE id = 1")
        (final,) = cursor.fetchone()
    check.close()
    return errors, final


def test_project_sqlite_options_let_two_read_then_write_transactions_both_succeed(tmp_path, django_db_blocker):
    with django_db_blocker.unblock():  # connections of our own to a file of our own, not the test database
        errors, final = _read_then_write_concurrently(tmp_path / "project.sqlite3", settings.SQLITE_OPTIONS)

    assert errors == []
    assert final == 2  # neither increment lost


def test_deferred_transactions_fail_the_same_interleaving(tmp_path, django_db_blocker):
    """The control: without IMMEDIATE the same interleaving errors (what the setting fixes)."""
    deferred = {k: v for k, v in settings.SQLITE_OPTIONS.items() if k != "transaction_mode"}
    deferred["timeout"] = 2

    with django_db_blocker.unblock():
        errors, final = _read_then_write_concurrently(tmp_path / "deferred.sqlite3", deferred)

    assert errors, "the deferred interleaving was expected to fail"
    assert "locked" in errors[0][1]
    assert final == 1
