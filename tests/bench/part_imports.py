"""The bulk-import part (BENCH_PARTS=imports): tests/bench/imports.py's steps, each in a fresh
process with no gunicorn running; each prints one JSON line. The report prints the figures
against the targets of issue 15 ("Performance").

Sizes (environment, for a quick check at a small scale; the targets are stated for the
defaults): BENCH_IMPORT_ROWS (the file validated, applied and imported again; default
10,000), BENCH_IMPORT_BIG (the larger file of the memory comparison; default 50,000),
BENCH_EXPORT_ROWS (the export; default 100,000, compared with an export of
BENCH_IMPORT_ROWS people)."""

import json
import os
import sys
import time

from tests.bench.common import log, run_checked

ROWS = int(os.environ.get("BENCH_IMPORT_ROWS", "10000"))
BIG = int(os.environ.get("BENCH_IMPORT_BIG", "50000"))
EXPORT_ROWS = int(os.environ.get("BENCH_EXPORT_ROWS", "100000"))


def _step(env: dict, *args, timeout: int = 1800) -> dict:
    log(f"imports: {' '.join(map(str, args))} (python -m tests.bench.imports …)")
    started = time.monotonic()
    command = [sys.executable, "-m", "tests.bench.imports", *map(str, args)]
    stdout = run_checked(command, env, timeout=timeout, what=f"imports {args[0]}")
    log(f"imports: {args[0]} took {time.monotonic() - started:.0f} s")
    return json.loads(stdout.strip().splitlines()[-1])


def imports_bench(env: dict) -> dict:
    """Seed the property, then each measurement in a fresh process (so each peak RSS is its
    own): the file validated, applied and imported again; validate + apply of a fresh file at
    two sizes; the users export streamed at two sizes."""
    return {
        "sizes": {"rows": ROWS, "big": BIG, "export": EXPORT_ROWS},
        "seed": _step(env, "seed"),
        "run": _step(env, "run", ROWS),
        "memory": {"small": _step(env, "memory", ROWS), "big": _step(env, "memory", BIG)},
        "export_seed": {"small": _step(env, "export-seed", ROWS), "big": _step(env, "export-seed", EXPORT_ROWS)},
        "export": {"small": _step(env, "export", ROWS), "big": _step(env, "export", EXPORT_ROWS)},
    }
