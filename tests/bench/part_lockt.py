"""The Lockt sync part (BENCH_PARTS=lockt): tests/bench/lockt.py once per size, each in a fresh
process (the Lockt emulator served by that process on a loopback port), then its figures
against the issue's targets. Sizes: BENCH_LOCKT_USERS (comma-separated, default 10000,50000).

Events are left to the workers (CELERY_TASK_ALWAYS_EAGER=false with the in-memory broker): the
figures are the poll's own reconciliation; deriving access from its events is the access
part's figure."""

import json
import os
import sys
import time

from tests.bench.common import log, run_checked

SIZES = tuple(int(n) for n in os.environ.get("BENCH_LOCKT_USERS", "10000,50000").split(",") if n.strip())
FIRST_POLL_MAX_S = 20.0  # issue 12: 10k users on PostgreSQL
SECOND_OVER_FIRST_MAX = 0.2
SECOND_SYNC_WRITES_MAX = 1
LINEAR_RATIO_MAX = 1.3


def lockt_bench(env: dict) -> dict:
    out = {}
    for users in SIZES:
        log(f"lockt sync: {users} users (python -m tests.bench.lockt {users})")
        started = time.monotonic()
        stdout = run_checked(
            [sys.executable, "-m", "tests.bench.lockt", str(users)],
            {**env, "CELERY_TASK_ALWAYS_EAGER": "false"},
            timeout=3600,
            what=f"lockt sync {users}",
        )
        out[users] = json.loads(stdout.strip().splitlines()[-1])
        log(f"lockt sync: {users} users took {time.monotonic() - started:.0f} s")
    return out


def lockt_print(results: dict, database: str) -> list[str]:
    """Print one table and return the targets missed (the 20 s target is PostgreSQL's)."""
    print(f"\nLockt sync ({database}): first poll of N remote users, then a poll with no remote change")
    print("| users | first poll | per user | peak RSS growth | writes | second poll | writes (outside poll time) |")
    print("| ---: | ---: | ---: | ---: | ---: | ---: | ---: |")
    failures = []
    for users, r in sorted(results.items()):
        second_writes = f"{r['second_writes']} ({r['second_writes_outside_poll_time']})"
        print(
            f"| {users} | {r['first_s']:.1f} s | {r['first_per_user_ms']:.2f} ms | {r['first_peak_rss_mb']} MB "
            f"| {r['first_writes']} | {r['second_s']:.2f} s | {second_writes} |"
        )
        if r["second_writes_outside_poll_time"] > SECOND_SYNC_WRITES_MAX:
            failures.append(f"lockt {users}: an unchanged poll wrote {r['second_writes_outside_poll_time']} rows")
        if r["second_over_first"] > SECOND_OVER_FIRST_MAX:
            failures.append(f"lockt {users}: the unchanged poll took {r['second_over_first']:.2f} of the first")
        if users == 10000 and database.startswith("PostgreSQL") and r["first_s"] > FIRST_POLL_MAX_S:
            failures.append(f"lockt 10000: first poll {r['first_s']:.1f} s > {FIRST_POLL_MAX_S:.0f} s")
    if 10000 in results and 50000 in results:
        ratio = results[50000]["first_per_user_ms"] / results[10000]["first_per_user_ms"]
        print(f"time per user, 50k over 10k: {ratio:.2f} (target ≤ {LINEAR_RATIO_MAX})")
        if ratio > LINEAR_RATIO_MAX:
            failures.append(f"lockt: time per user at 50k is {ratio:.2f}× that at 10k")
    return failures
