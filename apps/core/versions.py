"""The version counters of per-process caches, all read in one SELECT per request.

A per-process cache (accounts.credential_cache: API keys; firmware.assignment_cache: firmware
assignments) keeps what it read next to the value of a counter that every write changing it
raises in its own transaction; a kept value is used only while the counter is unchanged. Each
counter is a one-row table (`id` 1, `value`) owned by the app whose cache it guards, which
registers it here from its AppConfig.ready() (core names no domain table).

The first caller in a request (authentication) reads every registered counter in one raw
query (`UNION ALL` of single-row lookups by primary key), and the values are kept for the rest
of that request only: a second cache costs no round trip. The values are forgotten when a
request starts and ends (`request_started` / `request_finished`, connected by CoreConfig) and
when a write in this process raises a counter (`versions_forget`), so a value is never older
than the start of the request that uses it; outside a request (Celery, shell) every call reads
again. The kept values are per thread.
"""

import threading

from django.db import DatabaseError, connection

_tables: dict[str, str] = {}  # counter name → its one-row table
_local = threading.local()  # .in_request (bool), .values (dict | None): this request's read


def version_counter_register(name: str, table: str) -> None:
    """Read `table`'s row 1 with the other counters (from the owning app's ready())."""
    _tables[name] = table


def versions_read() -> dict[str, int]:
    """Every registered counter's value, read now in one query; a missing row is left out and
    a database error gives {} (callers then take their uncached path). Kept for the rest of the
    request when called inside one."""
    names = list(_tables)
    # Table names registered in code, never input.
    sql = " UNION ALL ".join(f"SELECT {n}, value FROM {_tables[name]} WHERE id = 1" for n, name in enumerate(names))  # noqa: S608
    try:
        with connection.cursor() as cursor:
            cursor.execute(sql)
            rows = cursor.fetchall()
    except DatabaseError:
        return {}
    values = {names[n]: value for n, value in rows}
    if getattr(_local, "in_request", False):
        _local.values = values
    return values


def version_get(name: str) -> int | None:
    """The counter's value as this request read it (no query), else read now; None when it
    cannot be read."""
    values = getattr(_local, "values", None)
    if values is None:
        values = versions_read()
    return values.get(name)


def versions_forget() -> None:
    """Drop this thread's kept values: the next `version_get` reads again (a write in this
    process raised a counter, or a request begins or ends)."""
    _local.values = None


def request_started_handler(**kwargs) -> None:
    _local.in_request = True
    _local.values = None


def request_finished_handler(**kwargs) -> None:
    _local.in_request = False
    _local.values = None
