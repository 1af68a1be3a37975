"""Keys kept per process while `KeyVersion` is unchanged (core.kept, core.versions).

syncLock checks the lock's signature with its lockKey and signs its answer with the property's
signing keys: one query of a few `Key` rows on every sync, about a fifth of a no-change sync
on PostgreSQL (docs/PERFORMANCE.md, issue 17). apps.locks.signing keeps those rows per
(lock, property) here. Every write to `Key` raises `KeyVersion` in its own transaction (the
model does it: apps.keys.models), so after a key is rotated, deactivated or moved, the next
request in every process reads the keys again. The private halves stay wrapped in the kept
rows; they are unwrapped per use, as without the copy.
"""

from apps.core.kept import KeptByCounter

COUNTER, TABLE = "keys", "keys_keyversion"  # registered in KeysConfig.ready()

keys_kept = KeptByCounter(COUNTER)


def keys_kept_clear() -> None:
    """Forget every kept key in this process (tests)."""
    keys_kept.clear()
