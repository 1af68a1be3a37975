"""The Lockt sync part (BENCH_PARTS=lockt): tests/bench/lockt.py once per size, each in a fresh
process (the Lockt emulator served by that process on a loopback port), then its figures
against the issue's targets (issue 12, "Benchmark"), printed as measure / figure / target /
pass-fail and written as the `lockt` block of docs/PERFORMANCE.md for the run's database.
Sizes: BENCH_LOCKT_USERS (comma-separated, default 10000,50000).

Events are left to the workers (CELERY_TASK_ALWAYS_EAGER=false with the in-memory broker): the
figures are the poll's own reconciliation; deriving access from its events is the access
part's figure."""

import json
import os
import sys
import time

from tests.bench import report
from tests.bench.common import log, run_checked

SIZES = tuple(int(n) for n in os.environ.get("BENCH_LOCKT_USERS", "10000,50000").split(",") if n.strip())
FIRST_POLL_MAX_S = 20.0  # issue 12: 10k users on PostgreSQL
SECOND_OVER_FIRST_MAX = 0.2
SECOND_SYNC_WRITES_MAX = 1
LINEAR_RATIO_MAX = 1.3

report.DOC_SECTIONS["lockt"] = """
## Lockt sync: 10,000 and 50,000 remote users

Issue 12, "Benchmark" (`tests/bench/lockt.py`; alone: `BENCH_PARTS=lockt make bench`, sizes:
`BENCH_LOCKT_USERS=10000,50000`): the real Lockt client and poll against the emulator served over
loopback in the same process, N users (one card credential and one level each), N/50 levels and
N/20 doors. A first poll (everything created through the services, with its events; the events'
processing is the workers'), then a poll with nothing changed remotely. Targets: the first poll of
10k users on PostgreSQL ≤ 20 s, peak memory shown; the unchanged poll ≤ 1 write of the sync and
≤ 1/5 of the first poll's time; time per user at 50k within 1.3× of 10k. Each run rewrites its
database's block below.

{block}
"""


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


def lockt_rows(results: dict, database: str) -> list[tuple[str, str, str, bool | None]]:
    """(what, figure, target, passed: True/False, None = for information)."""
    postgres = database.startswith("PostgreSQL")
    rows = []
    for users, r in sorted(results.items()):
        n = f"{users // 1000}k users"
        first_target = users == 10000
        rows += [
            (
                f"{n}: first poll ({r['first_writes']:,} write statements, {r['first_per_user_ms']:.2f} ms/user)",
                f"{r['first_s']:.1f} s",
                f"≤ {FIRST_POLL_MAX_S:.0f} s" if first_target and postgres else "–",
                (r["first_s"] <= FIRST_POLL_MAX_S) if first_target and postgres else None,
            ),
            (f"{n}: peak RSS growth over the first poll", f"{r['first_peak_rss_mb']} MB", "–", None),
            (
                f"{n}: unchanged poll: the sync's writes (besides the poll time)",
                str(r["second_writes_outside_poll_time"]),
                f"≤ {SECOND_SYNC_WRITES_MAX}",
                r["second_writes_outside_poll_time"] <= SECOND_SYNC_WRITES_MAX,
            ),
            (
                f"{n}: unchanged poll: all writes (the account's poll time)",
                str(r["second_writes"]),
                "–",
                None,
            ),
            (
                f"{n}: unchanged poll ({r['second_s']:.2f} s) over the first",
                f"{r['second_over_first']:.3f}",
                f"≤ {SECOND_OVER_FIRST_MAX}",
                r["second_over_first"] <= SECOND_OVER_FIRST_MAX,
            ),
        ]
    if 10000 in results and 50000 in results:
        ratio = results[50000]["first_per_user_ms"] / results[10000]["first_per_user_ms"]
        within = ratio <= LINEAR_RATIO_MAX
        rows.append(("first poll: time per user, 50k over 10k", f"{ratio:.2f}×", f"≤ {LINEAR_RATIO_MAX}×", within))
    return rows


def lockt_print(results: dict, database: str) -> list[str]:
    """Print the measures with their targets; return the targets missed (the 20 s is PostgreSQL's)."""
    print(f"\nLockt sync ({database}): first poll of N remote users, then a poll with no remote change")
    report.print_measures(lockt_rows(results, database), figure=10, target=8)
    return [f"lockt: {what}" for what, _, _, passed in lockt_rows(results, database) if passed is False]


def lockt_block(results: dict, meta: dict) -> str:
    start, end = report.marks("lockt", meta["db_key"])
    m, rows = meta["machine"], lockt_rows(results, meta["database"])
    failed = [what for what, _, _, passed in rows if passed is False]
    return "\n".join(
        [
            start,
            f"**{meta['database']}**: measured {meta['date']} by `{meta['command']}` (tests/bench/run.py, "
            "tests/bench/lockt.py).",
            "",
            f"- Machine: {m['nproc']} CPUs ({m['cpu']}), {m['os']}, Python {m['python']}; {meta['versions']}; "
            f"{m['load']} (1/5/15 min) before the run: anything else running shares the CPUs",
            f"- Database: {meta['database_setup']}; one fresh process per size, the emulator a thread of it",
            "",
            "| measure | figure | target | result |",
            "| --- | ---: | ---: | --- |",
            *(f"| {what} | {figure} | {target} | {report.verdict(passed)} |" for what, figure, target, passed in rows),
            "",
            f"**{'All targets met' if not failed else 'TARGETS MISSED: ' + '; '.join(failed)}.**",
            end,
        ]
    )
