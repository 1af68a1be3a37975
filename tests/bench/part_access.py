"""The access-model part (BENCH_PARTS=access): tests/bench/access.py's steps, each in a fresh
process with no gunicorn running (seed the two campuses, rebuild them, time changes); each step
prints one JSON line. The report prints its figures against their targets."""

import json
import sys
import time

from tests.bench.common import log, run_checked

ACCESS_STEPS = (("seed", 600), ("rebuild", 900), ("measure", 900))  # (step, timeout s)


def access_bench(env: dict) -> dict:
    """Seed the two campuses, rebuild them, time changes: one fresh process per step."""
    out = {}
    for step, timeout in ACCESS_STEPS:
        log(f"access model: {step} (python -m tests.bench.access {step})")
        started = time.monotonic()
        stdout = run_checked([sys.executable, "-m", "tests.bench.access", step], env, timeout=timeout, what=step)
        out[step] = json.loads(stdout.strip().splitlines()[-1])
        log(f"access model: {step} took {time.monotonic() - started:.0f} s")
    return out
