"""The ParqEx part (BENCH_PARTS=parqex): tests/bench/parqex.py in a fresh process (no gunicorn:
the emulator is served inside that process), 1,000 controllers × 3 doors unless
BENCH_PARQEX_CONTROLLERS says otherwise."""

import json
import os
import sys
import time

from tests.bench.common import log, run_checked

CONTROLLERS = int(os.environ.get("BENCH_PARQEX_CONTROLLERS", "1000"))


def parqex_bench(env: dict) -> dict:
    log(f"parqex: first and unchanged poll of {CONTROLLERS:,} controllers × 3 doors (python -m tests.bench.parqex)")
    started = time.monotonic()
    stdout = run_checked(
        [sys.executable, "-m", "tests.bench.parqex", str(CONTROLLERS)], env, timeout=3600, what="parqex poll"
    )
    log(f"parqex: took {time.monotonic() - started:.0f} s")
    return json.loads(stdout.strip().splitlines()[-1])


def parqex_failures(parqex: dict) -> list[str]:
    unchanged, failures = parqex["unchanged"], []
    for name in ("first", "unchanged"):
        if parqex[name]["status"] != "succeeded":
            failures.append(f"the {name} poll {parqex[name]['status']}: {parqex[name]['error']}")
    if unchanged["dataWrites"] > parqex["unchangedDataWritesMax"]:
        failures.append(f"an unchanged poll wrote {unchanged['dataWrites']} door/lock/link/health rows")
    if unchanged["accountWrites"] > parqex["unchangedAccountWritesMax"]:
        failures.append(f"an unchanged poll wrote the account {unchanged['accountWrites']} times")
    if unchanged["writes"] > parqex["unchangedWritesMax"]:
        most = parqex["unchangedWritesMax"]
        failures.append(f"an unchanged poll wrote {unchanged['writes']} rows (target <= {most})")
    return failures


def parqex_rows(parqex: dict) -> list[tuple[str, str, str]]:
    """(poll, figure, value) rows for the report and the doc."""
    rows = []
    for name, label in (("first", "first poll"), ("unchanged", "unchanged poll")):
        p = parqex[name]
        tables = ", ".join(f"{table} {n}" for table, n in p["writesByTable"].items()) or "none"
        rows += [
            (
                label,
                "doors fetched / created / updated / unchanged",
                f"{p['fetched']:,} / {p['created']:,} / {p['updated']:,} / {p['unchanged']:,}",
            ),
            (label, "wall time", f"{p['seconds']:.2f} s"),
            (label, "SQL statements", f"{p['queries']:,}"),
            (label, "writes (all)", f"{p['writes']:,} ({tables})"),
            (
                label,
                "data writes (doors, locks, links, health) / account writes",
                f"{p['dataWrites']:,} / {p['accountWrites']}",
            ),
        ]
    return rows


def print_parqex(parqex: dict) -> None:
    print(f"\nParqEx poll: {parqex['controllers']:,} controllers × 3 doors = {parqex['doors']:,} doors")
    for poll, what, value in parqex_rows(parqex):
        print(f"  {poll:15} {what:60} {value}")
