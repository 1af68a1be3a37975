"""The 100k-person property part (BENCH_PARTS=scale, issue 17 "Scale"; not in the default parts:
it takes well over 10 minutes): tests/bench/scale.py's steps, each in a fresh process with no
gunicorn running. BENCH_SCALE (thousands of people, default 100) and BENCH_SCALE_WIDE_STAFF
(staff who reach every lock, default 400) set the property; the report prints each figure
against its target."""

import json
import os
import sys
import time

from tests.bench import report
from tests.bench.common import log, run_checked

SCALE = max(1, int(os.environ.get("BENCH_SCALE", "100")))
STEPS = (("seed", 3600), ("rebuild", 7200), ("changes", 1800))  # (step, timeout s)


def scale_bench(env: dict) -> dict:
    out = {"scale": SCALE}
    for step, timeout in STEPS:
        log(f"scale: {step} (python -m tests.bench.scale {step} {SCALE})")
        started = time.monotonic()
        stdout = run_checked(
            [sys.executable, "-m", "tests.bench.scale", step, str(SCALE)], env, timeout=timeout, what=step
        )
        out[step] = json.loads(stdout.strip().splitlines()[-1])
        log(f"scale: {step} took {time.monotonic() - started:.0f} s")
    return out


def scale_rows(results: dict, database: str) -> list[tuple[str, str, str, bool | None]]:
    n, seed, rebuild, changes = results["scale"], results["seed"], results["rebuild"], results["changes"]
    big = seed[str(n)]
    derived = rebuild["derived"]
    postgres = database.startswith("PostgreSQL")
    rows = [
        (
            f"seed in bulk ({big['users']:,} users, {big['groups']:,} groups, {big['areas']:,} areas, "
            f"{big['locks']:,} locks; {seed['wide_staff']:,} staff reach every lock, the other "
            f"{max(0, big['users'] // 25 - seed['wide_staff']):,} staff their own building)",
            f"{big['seconds']} s",
            "",
            None,
        ),
        (
            f"full rebuild of derived access from empty ({derived['access_maps']:,} access maps with "
            f"{derived['map_entries']:,} entries, {derived['lock_lines']:,} lock lines; derive only, as the "
            f"20k row" + (f"; database {rebuild['database_mib']:,} MiB after)" if rebuild["database_mib"] else ")"),
            f"{rebuild['seconds']} s",
            "≤ 120 s" + ("" if postgres else " (PostgreSQL's)"),
            rebuild["seconds"] <= 120 if postgres else None,
        ),
        (
            "peak memory growth of that rebuild (fresh process, ru_maxrss after − before)",
            f"{rebuild['maxrss_growth_mib']} MiB",
            "≤ 1,024 MiB",
            rebuild["maxrss_growth_mib"] <= 1024,
        ),
    ]
    for kind in ("add", "remove"):
        a, b = changes["scaled"][kind]["median_ms"], changes["big"][kind]["median_ms"]
        qa, qb = changes["scaled"]["queries"][kind], changes["big"]["queries"][kind]
        ratio = a / b
        rows.append(
            (
                f"membership change ({kind}) on the {n}k property / the same on the 10k campus (medians of "
                f"{changes['big']['runs']}, interleaved: {a} / {b} ms; queries {qa} / {qb})",
                f"{ratio:.2f}",
                "≤ 1.5",
                ratio <= 1.5,
            )
        )
    reads = changes.get("list_areas")
    for page, label in (("first", "first page"), ("deep", "a page deep in the list")) if reads else ():
        a, b = reads["scaled"][f"{page}_ms"], reads["big"][f"{page}_ms"]
        ratio = a / b
        rows.append(
            (
                f"listAreas, {label} of 50, in-process (queryset + serializer, no HTTP) on the {n}k property "
                f"/ the 10k campus (medians of 30, interleaved: {a} / {b} ms)",
                f"{ratio:.2f}",
                "≤ 1.5",
                ratio <= 1.5,
            )
        )
    return rows


def scale_print(results: dict, database: str) -> list[str]:
    print(f"\nThe {results['scale']}k-person property ({database})")
    rows = scale_rows(results, database)
    report.print_measures(rows, figure=10, target=10)
    return [f"scale: {what}" for what, _, _, passed in rows if passed is False]


def scale_block(results: dict, meta: dict) -> str:
    start, end = report.marks("scale", meta["db_key"])
    m, rows = meta["machine"], scale_rows(results, meta["database"])
    failed = [what for what, _, _, passed in rows if passed is False]
    return "\n".join(
        [
            start,
            f"**{meta['database']}**: measured {meta['date']} by `BENCH_PARTS=scale {meta['command']}` "
            f"(tests/bench/run.py, tests/bench/scale.py; {meta['elapsed'] / 60:.0f} min).",
            "",
            f"- Machine: {m['nproc']} CPUs ({m['cpu']}), {m['os']}, Python {m['python']}; {meta['versions']}; "
            f"{m['load']} (1/5/15 min) before the run: anything else running shares the CPUs",
            f"- Database: {meta['database_setup']}; one fresh process per step",
            "",
            "| measure | figure | target | result |",
            "| --- | ---: | ---: | --- |",
            *(f"| {what} | {figure} | {target} | {report.verdict(passed)} |" for what, figure, target, passed in rows),
            "",
            f"**{'All targets met' if not failed else 'TARGETS MISSED: ' + '; '.join(failed)}.**",
            end,
        ]
    )
