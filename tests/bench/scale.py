"""The 100k-person property (issue 17, "Scale"), BENCH_PARTS=scale: one fresh process per step,
each printing one JSON line (the last line of its stdout):

    python -m tests.bench.scale seed N      # the 10k campus and an N-thousand-person one, in bulk
    python -m tests.bench.scale rebuild N   # derive.property_rebuild of the N-thousand one, from empty
    python -m tests.bench.scale changes N   # Pool-pass membership changes there vs the 10k campus

The campus is tests/bench/access.py's plan at scale N (N = 100: 100,000 users, 5,000 groups,
20,000 areas, 10,000 locks) with a stated staff composition: the campus shape's 40 staff per
1,000 people all reach every lock, which at 100k is 4,000 × 10,000 = 40 million access-map
entries (docs/SCALING.md, "Before either"). Here only BENCH_SCALE_WIDE_STAFF (default 400, the
10k campus's property-wide team, which does not grow with residents) are in Staff; the other
staff are building staff who reach their own building (its residents group and its cleaners).
The rebuild is timed and its peak-RSS growth measured exactly as the 20k row of the key-map
part (tests/bench/keymaps.py `step_scale`): derive only, in a fresh process.
"""

import gc
import json
import os
import sys
import time

from tests.bench import access

WIDE_STAFF = int(os.environ.get("BENCH_SCALE_WIDE_STAFF", "400"))


def _name(scale: int) -> None:
    access.CAMPUS_NAMES.setdefault(scale, f"Bench Campus {scale}k")


def step_seed(scale: int) -> dict:
    _name(scale)
    access._events_to_list()
    out = {}
    for size, wide in ((access.BIG, None), (scale, WIDE_STAFF)):
        started = time.perf_counter()
        counts = access.campus_seed(size, wide_staff=wide)
        counts.pop("property_id")
        out[str(size)] = {**counts, "seconds": round(time.perf_counter() - started, 1)}
    out["wide_staff"] = min(WIDE_STAFF, access.STAFF_PER_SCALE * scale)
    return out


def step_rebuild(scale: int) -> dict:
    from django.db import connection

    from apps.access import derive

    _name(scale)
    prop = access._property(scale)
    connection.ensure_connection()
    gc.collect()
    rss = access._maxrss_mib()
    started = time.perf_counter()
    result = derive.property_rebuild(property_id=prop.pk)
    seconds = time.perf_counter() - started
    growth = access._maxrss_mib() - rss
    started = time.perf_counter()
    derive.property_rebuild(property_id=access._property(access.BIG).pk)  # the ratios' reference
    small_seconds = time.perf_counter() - started
    if connection.vendor == "postgresql":  # steady-state statistics for `changes`
        with connection.cursor() as cursor:
            cursor.execute("VACUUM ANALYZE")
            cursor.execute("SELECT pg_database_size(current_database())")
            db_bytes = cursor.fetchone()[0]
    else:
        db_bytes = None
    return {
        "seconds": round(seconds, 1),
        "maxrss_growth_mib": round(growth, 1),
        "big_seconds": round(small_seconds, 1),
        "users_changed": len(result.users_changed),
        "derived": access._derived_counts(prop.pk),
        "database_mib": db_bytes and round(db_bytes / 2**20),
    }


def _list_areas_page(property_id, after=None) -> float:
    """listAreas' data path in-process (no HTTP, no auth): the view's queryset, a keyset page of
    50 (ORDER BY id, after a key when deep), serialized."""
    from apps.areas.api import _areas
    from apps.areas.serializers import AreaSerializer

    started = time.perf_counter()
    queryset = _areas(property_id).order_by("id")
    if after is not None:
        queryset = queryset.filter(id__gt=after)
    data = AreaSerializer(list(queryset[:51]), many=True).data
    seconds = time.perf_counter() - started
    if len(data) != 51:
        raise SystemExit(f"scale: a listAreas page had {len(data)} areas")
    return seconds


def list_areas(scale: int, runs: int = 30) -> dict:
    """First and deep pages of 50 on the scaled property and on the 10k campus, interleaved."""
    import statistics

    from apps.areas.models import Area

    props = {"scaled": access._property(scale).pk, "big": access._property(access.BIG).pk}
    middle = {
        name: Area.objects.filter(property_id=pk)
        .order_by("id")
        .values_list("id", flat=True)[Area.objects.filter(property_id=pk).count() // 2]
        for name, pk in props.items()
    }
    samples = {(name, deep): [] for name in props for deep in (False, True)}
    for run in range(runs + 2):
        for name in props if run % 2 == 0 else reversed(props):
            for deep in (False, True):
                seconds = _list_areas_page(props[name], middle[name] if deep else None)
                if run >= 2:  # warm-up
                    samples[name, deep].append(seconds)
    return {
        name: {
            "first_ms": round(statistics.median(samples[name, False]) * 1000, 2),
            "deep_ms": round(statistics.median(samples[name, True]) * 1000, 2),
        }
        for name in props
    }


def step_changes(scale: int) -> dict:
    from tests.bench.keymaps import step_scale_changes

    out = step_scale_changes(scale)
    out["list_areas"] = list_areas(scale)
    return out


STEPS = {"seed": step_seed, "rebuild": step_rebuild, "changes": step_changes}


def main() -> None:
    if len(sys.argv) != 3 or sys.argv[1] not in STEPS:
        raise SystemExit(f"usage: python -m tests.bench.scale {{{'|'.join(STEPS)}}} N")
    access._setup()
    print(json.dumps(STEPS[sys.argv[1]](int(sys.argv[2]))))


if __name__ == "__main__":
    main()
