"""A per-process cache of authenticated API keys, emptied by a version number in the database.

Every API request authenticates, and the key lookup (key + grants, one ORM query) cost about
as much as a bare DRF view's whole request (docs/PERFORMANCE.md, issue 17). A process keeps
each API key it has found, with the principal built from it, next to the value of
`CredentialVersion` it read *before* the lookup. A request reads that value again (one
single-row SELECT through the raw cursor, no ORM) and uses a kept key only when the value is
unchanged; the secret is still checked against the key's digest every time.

Every write that changes what a key may do (revoke, grants replaced; a new key needs none)
raises the value in its own transaction (services.credential_version_bump), so the next
request in every process, after the commit, sees a new value and looks the key up again:
revocation is as immediate as without the cache. The counter lives in the database, not in
Redis, on purpose: it commits or rolls back with the change itself, so there is no moment
after a revocation commits when the old value is still current, and no lost bump when Redis
is unreachable. Redis is not on this path at all, so a Redis outage changes nothing here.

Sign-in tokens (they expire, and their user may be disabled) and lock secrets are not cached.
"""

from apps.core.versions import versions_read

COUNTER, TABLE = "credentials", "accounts_credentialversion"  # registered in AccountsConfig.ready()
_MAX_ENTRIES = 4096  # a bound, not a tuning knob: a process sees a handful of keys

# (kind, prefix) → (version, credential, principal). Plain dict: gunicorn sync workers run one
# request at a time per process; a thread-pooled server would at worst look a key up twice.
_entries: dict[tuple[str, str], tuple[int, object, object]] = {}
_highest_seen = 0  # the value only rises; seen lower (a database restored from a backup): forget all


def credential_version() -> int | None:
    """The current value, or None when it cannot be read (no row, a database error): then the
    caller must take the uncached path. Read with the other cache counters in one query
    (core.versions), so the firmware assignments' counter costs this request no round trip."""
    value = versions_read().get(COUNTER)
    if value is None:
        return None
    global _highest_seen
    if value < _highest_seen:
        _entries.clear()
    _highest_seen = value
    return value


def credential_cache_get(kind: str, prefix: str, version: int):
    """(credential, principal) kept under this exact version, else None."""
    entry = _entries.get((kind, prefix))
    if entry is None or entry[0] != version:
        return None
    return entry[1], entry[2]


def credential_cache_put(kind: str, prefix: str, version: int, credential, principal) -> None:
    if len(_entries) >= _MAX_ENTRIES:
        _entries.clear()
    _entries[kind, prefix] = (version, credential, principal)


def credential_cache_clear() -> None:
    """Forget every kept key in this process (tests)."""
    _entries.clear()
