"""The HTTP part (BENCH_PARTS=http): the enveloped API against bare DRF views under gunicorn.

Seeds the database in a fresh process (tests/bench/seed.py: API keys, a property with 10,000
areas, SQL queries counted in-process), starts gunicorn, checks every endpoint answers 200 with a
full page, then drives each pair (GET /api/v1/api-keys, listAreas, getProperty, each against its
bare view of tests/bench/baseline.py) in interleaved slices. The report prints its figures."""

import json
import sys
import urllib.error
import urllib.request
from pathlib import Path

from tests.bench.common import TOOL, BenchError, log, run_checked
from tests.bench.load import Request, ensure_wrk, interleaved, run_load
from tests.bench.server import gunicorn_running

ENVELOPED = "/api/v1/api-keys"
BARE = "/bench/bare"
LIST_AREAS = "/api/v1/properties/{property_id}/areas"
BARE_AREAS = "/bench/bare/properties/{property_id}/areas"
GET_PROPERTY = "/api/v1/properties/{property_id}"
BARE_PROPERTY = "/bench/bare/properties/{property_id}"
SEED_KEYS = 60


def fetch(base: str, path: str, headers: dict) -> tuple[int, bytes]:
    request = urllib.request.Request(f"{base}{path}", headers=headers)  # noqa: S310 - loopback
    try:
        with urllib.request.urlopen(request, timeout=10) as response:  # noqa: S310
            return response.status, response.read()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read()


def _verify_enveloped(base: str, path: str, auth: dict, items_key: str | None, page_size: int) -> int:
    status, body = fetch(base, path, auth)
    if status != 200:
        raise BenchError(f"GET {path} answered {status}: {body[:500]!r}")
    doc = json.loads(body)
    data = doc.get("data")
    if doc.get("success") is not True or doc.get("error") is not None or not isinstance(data, dict):
        raise BenchError(f"GET {path}: not the expected envelope: {body[:500]!r}")
    if items_key is not None:
        items = data.get(items_key)
        if not isinstance(items, list) or len(items) != page_size or not data.get("pageToken"):
            got = len(items) if isinstance(items, list) else items
            raise BenchError(f"GET {path}: expected a full page of {page_size} with a pageToken, got {got}")
    return len(body)


def _verify_bare(base: str, path: str, rows: int | None) -> int:
    status, body = fetch(base, path, {})
    if status != 200:
        raise BenchError(f"GET {path} answered {status}: {body[:500]!r}")
    doc = json.loads(body)
    if rows is not None and len(doc) != rows:
        raise BenchError(f"GET {path}: expected {rows} rows, got {len(doc)}")
    return len(body)


def verify(base: str, auth: dict, page_size: int, pairs: list[dict]) -> dict:
    """Every endpoint answers 200 with a full page; returns body sizes. Fails loudly otherwise."""
    sizes = {}
    for pair in pairs:
        rows = page_size if pair["items_key"] else None
        sizes[pair["path"]] = _verify_enveloped(base, pair["path"], auth, pair["items_key"], page_size)
        sizes[pair["bare"]] = _verify_bare(base, pair["bare"], rows)
    return sizes


def http_bench(env: dict, tmp: Path) -> dict:
    """Steps 1–4: seed, gunicorn, load; returns the seed figures and the load results."""
    log(f"seeding {SEED_KEYS} API keys and a property with 10,000 areas; counting queries in-process")
    seed = json.loads(
        run_checked([sys.executable, "-m", "tests.bench.seed"], env, timeout=300, what="seed").strip().splitlines()[-1]
    )
    auth = {"Authorization": f"Bearer {seed['secret']}"}
    property_id = seed["directory"]["property_id"]
    pairs = [
        {"path": ENVELOPED, "bare": BARE, "items_key": "apiKeys"},
        {
            "path": LIST_AREAS.format(property_id=property_id),
            "bare": BARE_AREAS.format(property_id=property_id),
            "label": LIST_AREAS.format(property_id="{propertyId}"),
            "bare_label": BARE_AREAS.format(property_id="{propertyId}"),
            "items_key": "properties",  # sic: the spec's listAreas names its array `properties`
        },
        {
            "path": GET_PROPERTY.format(property_id=property_id),
            "bare": BARE_PROPERTY.format(property_id=property_id),
            "label": GET_PROPERTY.format(property_id="{propertyId}"),
            "bare_label": BARE_PROPERTY.format(property_id="{propertyId}"),
            "items_key": None,
        },
    ]
    log(
        f"seeded in {seed['directory']['seed_seconds']} s on {seed['database']} "
        f"(area_create {seed['directory']['service_ms_per_area']} ms/area; "
        f"bulk {seed['directory']['bulk_areas']} areas in {seed['directory']['bulk_seconds']} s)"
    )

    wrk = ensure_wrk() if TOOL != "python" else None
    with gunicorn_running(env, tmp, "http") as server:
        base = server.base
        sizes = verify(base, auth, seed["page_size"], pairs)

        targets = {}
        for pair in pairs:
            targets[pair["bare"]] = Request("GET", pair["bare"])
            targets[pair["path"]] = Request("GET", pair["path"], auth)

        def drive(path: str, seconds: int) -> dict:
            sample = run_load(base, targets[path], seconds, tmp, wrk)
            server.check_alive()
            return sample

        results = interleaved(list(targets), drive, wrk)
        verify(base, auth, seed["page_size"], pairs)  # still healthy after the load
    seed["sql_directory"] = seed["directory"]["sql"]["list_10000"]
    return {"seed": seed, "results": results, "sizes": sizes, "pairs": pairs, "wrk": wrk}
