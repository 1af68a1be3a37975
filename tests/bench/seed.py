"""Seed the bench database and count SQL queries per request, in-process.

Run by tests/bench/run.py as `python -m tests.bench.seed` (DJANGO_SETTINGS_MODULE set to
tests.bench.settings, DATABASE_URL pointing at the bench's fresh SQLite file or PostgreSQL
database). Prints one JSON line with what run.py needs.

API keys: creates the `owner` key the load run authenticates with, counts the queries of
GET /api/v1/api-keys with 10 and then 60 keys in the table (a flat count means no N+1).

Directory: one property ("Bench Towers") with 10,000 areas: 10 buildings x 27 floors x 36
units (10 + 270 + 9,720). The first 10 areas (a building, its first floor, 8 units) are made
with `area_create`; the queries of listAreas (a page of 50) and getProperty are counted then,
and again once the property holds 10,000 areas, on the first page and on a page deep in the
list. The other 9,990 areas are written with `bulk_create` (bench-only): `area_create` checks
the access list against every area id of the property, so each call costs O(areas) and 10,000
calls take minutes. The bulk rows get what the service gives them: `ancestor_ids` (nearest
first) and `depth` from their parent, and each its own area user group; they get no
`area.created` / `group.created` events. The tree is checked after the insert; on PostgreSQL
the two tables are then ANALYZEd (steady-state planner statistics).
"""

import json
import os
import statistics
import sys
import time

DIRECTORY_AREAS = 10_000
BUILDINGS, FLOORS, UNITS = 10, 27, 36  # 10 + 10*27 + 10*27*36 = 10,000
SERVICE_AREAS = 10
BULK_BATCH = 1000
TIMING_CALLS = 20


def _seed_to(total: int, *, services, Grant, ApiKey) -> None:
    for n in range(ApiKey.objects.count(), total):
        services.api_key_create(display_name=f"bench-{n:03d}", grants=[Grant("owner")], actor="system")


def _count_queries(client, path: str, items_key: str | None = None, expected_items: int | None = None):
    """(query count, SQL, response JSON data) of one GET; fails unless 200 (and the item count)."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as captured:
        response = client.get(path)
    if response.status_code != 200:
        raise SystemExit(f"seed: GET {path} answered {response.status_code}: {response.content[:300]!r}")
    data = response.json()["data"]
    if items_key is not None and len(data[items_key]) != expected_items:
        raise SystemExit(f"seed: GET {path} returned {len(data[items_key])} items, expected {expected_items}")
    return len(captured), [q["sql"] for q in captured.captured_queries], data


def _median_ms(client, path: str) -> float:
    times = []
    for _ in range(TIMING_CALLS):
        started = time.perf_counter()
        response = client.get(path)
        times.append((time.perf_counter() - started) * 1000)
        if response.status_code != 200:
            raise SystemExit(f"seed: GET {path} answered {response.status_code}")
    return round(statistics.median(times), 2)


def _area_specs():
    """(key, display name, area type, parent key) for the 10,000 areas, parents first,
    building by building (so the first page of 50 is a building, a floor and its units)."""
    for b in range(BUILDINGS):
        letter = chr(ord("A") + b)
        yield (b,), f"Building {letter}", "common", None
        for f in range(1, FLOORS + 1):
            yield (b, f), f"Building {letter} floor {f}", "common", (b,)
            for u in range(1, UNITS + 1):
                yield (b, f, u), f"Unit {letter}-{f:02d}{u:02d}", "resident", (b, f)


def _bulk_areas(prop, specs, made: dict) -> None:
    """Insert areas and their area groups directly (see the module docstring), in one transaction."""
    from django.db import connection, transaction

    from apps.access.models import UserGroup, UserGroupGroupSource
    from apps.areas.models import Area

    areas, groups = [], []
    for key, name, area_type, parent_key in specs:
        parent = made[parent_key] if parent_key is not None else None
        area = Area(
            property=prop,
            parent=parent,
            display_name=name,
            area_type=area_type,
            ancestor_ids=[str(parent.pk), *parent.ancestor_ids] if parent else [],
            depth=parent.depth + 1 if parent else 0,
            access_list=[],
            last_modified_by="system",
        )
        made[key] = area
        areas.append(area)
        groups.append(
            UserGroup(
                property=prop,
                area=area,
                display_name=f"{name} members",
                group_type=area_type,
                group_source=UserGroupGroupSource.AREA,
                last_modified_by="system",
            )
        )
    with transaction.atomic():
        Area.objects.bulk_create(areas, batch_size=BULK_BATCH)
        UserGroup.objects.bulk_create(groups, batch_size=BULK_BATCH)
    if connection.vendor == "postgresql":
        # Planner statistics as autovacuum would have them in steady state (it analyzes the
        # tables within a minute or so anyway); without them the first slices may see other plans.
        with connection.cursor() as cursor:
            cursor.execute(f"ANALYZE {Area._meta.db_table}, {UserGroup._meta.db_table}")


def _check_tree(prop) -> None:
    from apps.access.models import UserGroup
    from apps.areas.models import Area
    from apps.areas.tree import ancestors

    rows = list(Area.objects.filter(property=prop).values_list("id", "parent_id", "ancestor_ids", "depth"))
    parent_of = {pk: parent for pk, parent, _, _ in rows}
    for pk, _, ancestor_ids, depth in rows:
        chain = [str(i) for i in ancestors(parent_of, pk)]
        if ancestor_ids != chain or depth != len(chain):
            raise SystemExit(f"seed: area {pk} has ancestor_ids/depth {ancestor_ids}/{depth}, expected {chain}")
    grouped = UserGroup.objects.filter(property=prop, area__isnull=False).count()
    if len(rows) != DIRECTORY_AREAS or grouped != DIRECTORY_AREAS:
        raise SystemExit(f"seed: {len(rows)} areas and {grouped} area groups, expected {DIRECTORY_AREAS} of each")


def _directory(client, page: int) -> dict:
    from apps.access import services as access_services

    prop = access_services.property_create(
        display_name="Bench Towers",
        address={"line1": "1 Bench Plaza", "city": "Boston", "state": "MA", "country": "US", "postalCode": "02110"},
        time_zone="America/New_York",
        actor="system",
    )
    list_path = f"/api/v1/properties/{prop.pk}/areas"
    get_path = f"/api/v1/properties/{prop.pk}"
    specs = list(_area_specs())
    made = {}
    started = time.perf_counter()
    for key, name, area_type, parent_key in specs[:SERVICE_AREAS]:
        parent = made.get(parent_key)
        made[key] = access_services.area_create(
            prop=prop, display_name=name, area_type=area_type, parent_id=parent.pk if parent else None, actor="system"
        )
    service_ms = (time.perf_counter() - started) * 1000 / SERVICE_AREAS

    queries, sql = {}, {}
    # Warm-up: the first request of a process also looks up the Area content type (Django
    # caches it per process, for externalRefs); counted apart as `list_first_in_process`.
    queries["list_first_in_process"], _, _ = _count_queries(client, list_path, "properties", SERVICE_AREAS)
    queries["list_10"], sql["list_10"], _ = _count_queries(client, list_path, "properties", SERVICE_AREAS)
    # getProperty, likewise, looks up the Property content type on its first call in a process.
    queries["get_first_in_process"], _, _ = _count_queries(client, get_path)
    queries["get_10"], sql["get_10"], _ = _count_queries(client, get_path)

    started = time.perf_counter()
    _bulk_areas(prop, specs[SERVICE_AREAS:], made)
    bulk_seconds = time.perf_counter() - started
    _check_tree(prop)

    queries["list_10000"], sql["list_10000"], first = _count_queries(client, list_path, "properties", page)
    # A page deep in the list: walk with big pages, then one default page from that token.
    token, seen = first["pageToken"], page
    while seen < DIRECTORY_AREAS - 2 * page:
        step = min(500, DIRECTORY_AREAS - 2 * page - seen)
        _, _, data = _count_queries(client, f"{list_path}?pageSize={step}&pageToken={token}", "properties", step)
        token, seen = data["pageToken"], seen + step
    deep_path = f"{list_path}?pageToken={token}"
    queries["list_deep"], sql["list_deep"], _ = _count_queries(client, deep_path, "properties", page)
    queries["get_10000"], sql["get_10000"], _ = _count_queries(client, get_path)
    return {
        "property_id": str(prop.pk),
        "areas": DIRECTORY_AREAS,
        "shape": f"{BUILDINGS} buildings x {FLOORS} floors x {UNITS} units",
        "service_areas": SERVICE_AREAS,
        "service_ms_per_area": round(service_ms, 1),
        "bulk_areas": DIRECTORY_AREAS - SERVICE_AREAS,
        "bulk_seconds": round(bulk_seconds, 2),
        "deep_offset": seen,
        "queries": queries,
        "sql": sql,
        "in_process_ms": {
            "list_first": _median_ms(client, list_path),
            "list_deep": _median_ms(client, deep_path),
            "get": _median_ms(client, get_path),
        },
    }


def _database() -> str:
    from django.db import connection

    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SHOW server_version")
            version = cursor.fetchone()[0].split()[0]
        return f"PostgreSQL {version}"
    if connection.vendor == "sqlite":
        import sqlite3

        return f"SQLite {sqlite3.sqlite_version}"
    return connection.vendor


def main() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "tests.bench.settings")
    import django

    django.setup()
    from django.conf import settings
    from django.test import Client

    from apps.accounts import services
    from apps.accounts.models import ApiKey
    from apps.core.principal import Grant

    page = settings.KEYHOUSE_PAGE_SIZE_DEFAULT
    path = "/api/v1/api-keys"
    _, secret = services.api_key_create(display_name="bench", grants=[Grant("owner")], actor="system")
    client = Client(HTTP_HOST=settings.ALLOWED_HOSTS[0], HTTP_AUTHORIZATION=f"Bearer {secret}")

    queries, sql = {}, {}
    _seed_to(10, services=services, Grant=Grant, ApiKey=ApiKey)
    # The key's first use also writes lastUsedAt (at most once a minute): count it apart.
    first_use, _, _ = _count_queries(client, path, "apiKeys", 10)
    queries["10"], sql["10"], _ = _count_queries(client, path, "apiKeys", 10)
    _seed_to(60, services=services, Grant=Grant, ApiKey=ApiKey)
    queries["60"], sql["60"], _ = _count_queries(client, path, "apiKeys", min(60, page))

    started = time.perf_counter()
    directory = _directory(client, page)
    directory["seed_seconds"] = round(time.perf_counter() - started, 1)

    print(
        json.dumps(
            {
                "secret": secret,
                "keys": ApiKey.objects.count(),
                "page_size": page,
                "queries": queries,
                "first_use_queries": first_use,
                "sql": sql,
                "database": _database(),
                "directory": directory,
            }
        )
    )


if __name__ == "__main__":
    sys.exit(main())
