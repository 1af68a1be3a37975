"""The key-map part (BENCH_PARTS=keymaps, issue 17): tests/bench/keymaps.py's steps, each in a
fresh process: the campus and its phones (reused when the protocol part ran first), a build-all
in-process, then with Redis (BENCH_REDIS_URL, else a private redis-server) and live Celery
workers the steps start themselves: the build-all shared by one and by two workers, and
revocation latency through a worker. The report prints the figures against their targets."""

import json
import os
import sys
import time

from tests.bench.common import log, run_checked
from tests.bench.part_portal import redis_running


def _step(env: dict, args: list[str], timeout: int) -> dict:
    log(f"key maps: {' '.join(args)} (python -m tests.bench.keymaps {' '.join(args)})")
    started = time.monotonic()
    stdout = run_checked([sys.executable, "-m", "tests.bench.keymaps", *args], env, timeout=timeout, what=args[0])
    log(f"key maps: {args[0]} took {time.monotonic() - started:.0f} s")
    return json.loads(stdout.strip().splitlines()[-1])


# The scaled campus (BENCH_KEYMAP_SCALE thousand people; 100 is the 100k property; 0 skips)
SCALE = max(0, int(os.environ.get("BENCH_KEYMAP_SCALE", "20")))


def keymaps_bench(env: dict, tmp, protocol: dict | None = None) -> dict:
    out = {"seed": _step(env, ["seed"], 900), "sqlite": env["DATABASE_URL"].startswith("sqlite")}
    # the protocol part's build-all, when it ran, signed every map already (same figure)
    out["build"] = protocol["build"] if protocol else _step(env, ["build"], 1800)
    with redis_running(tmp) as url:
        if url is None:
            out["skipped"] = "no Redis: set BENCH_REDIS_URL or install redis-server"
            return out
        live = {**env, "REDIS_URL": url, "REDIS_CACHE_URL": url, "CELERY_TASK_ALWAYS_EAGER": "false"}
        out["workers"] = {str(n): _step(live, ["workers", str(n)], 900) for n in (1, 2)}
        out["revoke"] = _step(live, ["revoke"], 1800)
    if SCALE:
        out["scale"] = _step(env, ["scale", str(SCALE)], 7200)
        out["scale"]["changes"] = _step(env, ["scale-changes", str(SCALE)], 1800)
    return out
