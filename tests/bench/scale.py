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
    out["wide_staff"] = WIDE_STAFF
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


def step_changes(scale: int) -> dict:
    from tests.bench.keymaps import step_scale_changes

    return step_scale_changes(scale)


STEPS = {"seed": step_seed, "rebuild": step_rebuild, "changes": step_changes}


def main() -> None:
    if len(sys.argv) != 3 or sys.argv[1] not in STEPS:
        raise SystemExit(f"usage: python -m tests.bench.scale {{{'|'.join(STEPS)}}} N")
    access._setup()
    print(json.dumps(STEPS[sys.argv[1]](int(sys.argv[2]))))


if __name__ == "__main__":
    main()
