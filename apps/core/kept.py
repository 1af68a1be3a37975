"""Values a process keeps while a version counter is unchanged (core.versions).

A per-process cache of database rows is safe when every write that changes those rows raises
a counter in its own transaction, and a kept value is used only while the counter reads as it
did when the value was read. `KeptByCounter` is that bookkeeping for one counter: firmware
assignments (firmware.assignment_cache) and the keys a lock's sync checks and signs with
(keys.kept) use it.

A process that raised the counter itself forgets what it kept at once, and keeps nothing until
its transaction has ended (committed: on_commit; rolled back: the callback is gone): what it
reads inside that transaction could still roll back. Plain dicts: gunicorn sync workers run one
request at a time per process.
"""

from django.db import connection, transaction

from apps.core.versions import version_get, versions_forget


class KeptByCounter:
    """{key: value} kept under the value of the counter `counter` (registered in core.versions)."""

    def __init__(self, counter: str, *, max_entries: int = 4096):
        self.counter, self.max_entries = counter, max_entries
        self._values: dict = {}
        self._version: int | None = None
        self._changing = False  # this process raised the value in a transaction not known to have ended
        self._on_commit = self._committed  # one bound method, found again among on-commit callbacks

    def get(self, keys) -> tuple[int | None, dict]:
        """(version, {key: value}) for those of `keys` kept under the current value; version
        None when it cannot be read or this process must not keep what it reads now."""
        if self._change_pending():
            return None, {}
        version = version_get(self.counter)
        if version is None:
            return None, {}
        if version != self._version:
            self._values.clear()
            self._version = version
        return version, {key: self._values[key] for key in keys if key in self._values}

    def put(self, version: int | None, values: dict) -> None:
        """Keep `values`, read after `version` was (ignored when version is None or stale)."""
        if version is None or version != self._version or self._change_pending():
            return
        if len(self._values) + len(values) > self.max_entries:
            self._values.clear()
        self._values.update(values)

    def changed(self) -> None:
        """This process raised the value (inside the change's transaction): forget everything
        and keep nothing until that transaction has ended."""
        self._values.clear()
        versions_forget()
        self._changing = True
        transaction.on_commit(self._on_commit)

    def clear(self) -> None:
        """Forget everything kept in this process (tests)."""
        self._values.clear()
        self._version = None

    def _committed(self) -> None:
        self._changing = False
        versions_forget()

    def _change_pending(self) -> bool:
        """True while this process's own change is uncommitted. A rollback runs no callback; it
        drops ours from the connection's pending on-commit callbacks (Django's `run_on_commit`),
        which is how it is told apart from a change still in progress."""
        if not self._changing:
            return False
        if any(entry[1] is self._on_commit for entry in connection.run_on_commit):
            return True
        self._changing = False  # rolled back (a commit would have run `_committed`)
        self._values.clear()
        versions_forget()
        return False
