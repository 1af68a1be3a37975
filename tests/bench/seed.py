"""Seed the bench database and count SQL queries per list request, in-process.

Run by tests/bench/run.py as `python -m tests.bench.seed` (DJANGO_SETTINGS_MODULE set to
tests.bench.settings, DATABASE_URL pointing at the bench's fresh SQLite file). Creates the
`owner` key the load run authenticates with, counts the queries of GET /api/v1/api-keys with
10 and then 60 keys in the table (a flat count means no N+1), and prints one JSON line:
{"secret": ..., "keys": 60, "queries": {"10": n, "60": n}, "sql": {...}, "first_use_queries": n}.
"""

import json
import os
import sys


def _seed_to(total: int, *, services, Grant, ApiKey) -> None:
    for n in range(ApiKey.objects.count(), total):
        services.api_key_create(display_name=f"bench-{n:03d}", grants=[Grant("owner")], actor="system")


def _count_queries(client, path: str, expected_items: int) -> tuple[int, list[str]]:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as captured:
        response = client.get(path)
    if response.status_code != 200:
        raise SystemExit(f"seed: GET {path} answered {response.status_code}: {response.content[:300]!r}")
    items = response.json()["data"]["apiKeys"]
    if len(items) != expected_items:
        raise SystemExit(f"seed: GET {path} returned {len(items)} keys, expected {expected_items}")
    return len(captured), [q["sql"] for q in captured.captured_queries]


def main() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "tests.bench.settings")
    import django

    django.setup()
    from django.conf import settings
    from django.test import Client

    from apps.accounts import services
    from apps.accounts.models import ApiKey
    from apps.core.api.principal import Grant

    page = settings.KEYHOUSE_PAGE_SIZE_DEFAULT
    path = "/api/v1/api-keys"
    _, secret = services.api_key_create(display_name="bench", grants=[Grant("owner")], actor="system")
    client = Client(HTTP_HOST=settings.ALLOWED_HOSTS[0], HTTP_AUTHORIZATION=f"Bearer {secret}")

    queries, sql = {}, {}
    _seed_to(10, services=services, Grant=Grant, ApiKey=ApiKey)
    # The key's first use also writes lastUsedAt (at most once a minute): count it apart.
    first_use, _ = _count_queries(client, path, expected_items=10)
    queries["10"], sql["10"] = _count_queries(client, path, expected_items=10)
    _seed_to(60, services=services, Grant=Grant, ApiKey=ApiKey)
    queries["60"], sql["60"] = _count_queries(client, path, expected_items=min(60, page))

    print(
        json.dumps(
            {
                "secret": secret,
                "keys": ApiKey.objects.count(),
                "page_size": page,
                "queries": queries,
                "first_use_queries": first_use,
                "sql": sql,
            }
        )
    )


if __name__ == "__main__":
    sys.exit(main())
