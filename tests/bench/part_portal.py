"""The portal rate-limit part (BENCH_PARTS=portal; issue 13, "Benchmark").

The property token bucket (apps/portal/ratelimit.py: 100 burst, 80 per second, one Lua script
in Redis timed by Redis `TIME`) under gunicorn with 4 workers on loopback:

1. seed two properties, A and B, each a unit with its token and leaseholder (fresh process);
2. start Redis (BENCH_REDIS_URL, else a private `redis-server` on a free loopback port, no
   persistence) and `gunicorn -w 4` with REDIS_URL pointing at it;
3. open-loop load, paced by a clock (not by the answers): 300 requests/s on A for
   BENCH_PORTAL_SECONDS (10) and 50 requests/s on B at the same time, each a leaseholder's
   `GET …/units/users/{userId}`. A's accepted count must be 100 + 80·T within 1% and never
   above, T being the load's span on Redis's clock (the bucket's own clock); B must see no 429;
   every refusal must be a 429 with `Retry-After`;
4. with A's bucket full again, a burst of 200 requests released at once across the 4 workers:
   exactly 100 plus the refill during the burst pass (a bucket per process would pass 200);
5. the limiter's own cost per request (tests/bench/portal.py `cost`, in-process against the
   same Redis): p50 and p99.

Without Redis (no BENCH_REDIS_URL, no `redis-server` on the PATH) the part is skipped and says
so: the fallback bucket is per process, and measuring it under 4 workers would prove nothing.
"""

import concurrent.futures
import contextlib
import http.client
import json
import os
import shutil
import subprocess
import sys
import threading
import time
from pathlib import Path

from tests.bench.common import HOST, BenchError, log, run_checked
from tests.bench.server import free_port, gunicorn_running

SECONDS = max(2, min(int(os.environ.get("BENCH_PORTAL_SECONDS", "10")), 60))
RATE_A, RATE_B = 300, 50
BURST_REQUESTS = 200
BURST, REFILL = 100, 80  # config/settings.py KEYHOUSE_PORTAL_RATE_BURST / _PER_SECOND (defaults)
WORKERS = 4


def portal_bench(env: dict, tmp: Path) -> dict:
    log("portal: seeding two properties with a unit each (python -m tests.bench.portal seed)")
    seed = json.loads(
        run_checked([sys.executable, "-m", "tests.bench.portal", "seed"], env, timeout=120, what="seed")
        .strip()
        .splitlines()[-1]
    )
    with redis_running(tmp) as redis_url:
        if redis_url is None:
            return {"skipped": "no Redis: set BENCH_REDIS_URL or install redis-server"}
        served = {
            **env,
            "REDIS_URL": redis_url,
            "REDIS_CACHE_URL": redis_url,  # the buckets' keys, read back below
            "KEYHOUSE_PORTAL_RATE_BURST": str(BURST),
            "KEYHOUSE_PORTAL_RATE_PER_SECOND": str(REFILL),
        }
        redis_client = _redis(redis_url)
        version = _version(redis_url)
        with gunicorn_running(served, tmp, "portal", workers=WORKERS) as server:
            port = int(server.base.rsplit(":", 1)[1])
            a, b = (_Target(port, seed[label]) for label in ("A", "B"))
            for target in (a, b):
                status, _ = target.get()
                if status != 200:
                    raise BenchError(f"portal: a leaseholder's GET answered {status}, not 200")
            time.sleep(BURST / REFILL + 0.5)  # both buckets full
            log(f"portal: {RATE_A} req/s on A and {RATE_B} req/s on B for {SECONDS} s")
            sustained = _sustained(a, b, redis_client, bucket=f"keyhouse:portal:property:{seed['A']['propertyId']}")
            server.check_alive()
            time.sleep(BURST / REFILL + 0.5)
            log(f"portal: a burst of {BURST_REQUESTS} requests on a full bucket")
            burst = _burst(a, redis_client)
            server.check_alive()
        log("portal: the limiter's own cost (python -m tests.bench.portal cost)")
        cost = json.loads(
            run_checked([sys.executable, "-m", "tests.bench.portal", "cost"], served, timeout=120, what="cost")
            .strip()
            .splitlines()[-1]
        )
    return {"sustained": sustained, "burst": burst, "cost": cost, "workers": WORKERS, "redis": version}


# --- Redis --------------------------------------------------------------------------------------
@contextlib.contextmanager
def redis_running(tmp: Path):
    """BENCH_REDIS_URL, or a private redis-server for the block (None when there is neither)."""
    given = os.environ.get("BENCH_REDIS_URL", "").strip()
    if given:  # nothing is flushed: the bench's keys are those of the properties it seeds
        yield given
        return
    exe = shutil.which("redis-server")
    if exe is None:
        yield None
        return
    port = free_port()
    log_path = tmp / "redis.log"
    with open(log_path, "wb") as out:
        proc = subprocess.Popen(
            [exe, "--bind", HOST, "--port", str(port), "--save", "", "--appendonly", "no"],
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    url = f"redis://{HOST}:{port}/0"
    import redis

    try:
        deadline = time.monotonic() + 10
        while True:
            try:
                _redis(url).ping()
                break
            except redis.RedisError as exc:
                if time.monotonic() > deadline or proc.poll() is not None:
                    raise BenchError(f"redis-server did not start ({exc}): {log_path.read_text()[-500:]}") from None
                time.sleep(0.1)
        yield url
    finally:
        proc.terminate()
        proc.wait(timeout=10)


def _redis(url: str):
    import redis

    return redis.Redis.from_url(url, socket_timeout=5)


def _version(url: str) -> str:
    return "Redis " + _redis(url).info("server")["redis_version"]


def _redis_now(client) -> float:
    """Redis's clock: the one the bucket refills by."""
    seconds, micros = client.time()
    return seconds + micros / 1e6


# --- requests -----------------------------------------------------------------------------------
class _Target:
    """A leaseholder's GET of their own user record on one property."""

    def __init__(self, port: int, seed: dict):
        self.port = port
        self.path = f"/api/portal/v1/residents/properties/{seed['propertyId']}/units/users/{seed['userId']}"
        self.headers = {"Authorization": f"Bearer {seed['token']}", "Host": HOST}

    def get(self) -> tuple[int, bool]:
        """(status, has Retry-After); status 0 for a socket error."""
        conn = http.client.HTTPConnection(HOST, self.port, timeout=30)
        try:
            conn.request("GET", self.path, headers=self.headers)
            response = conn.getresponse()
            response.read()
            return response.status, response.getheader("Retry-After") is not None
        except OSError:
            return 0, False
        finally:
            conn.close()


def _paced(target: _Target, rate: int, seconds: int, pool, started: float, late: list) -> list:
    """Submit `rate`·`seconds` requests at their scheduled times (open loop); returns futures."""
    futures = []
    for i in range(rate * seconds):
        due = started + i / rate
        wait = due - time.monotonic()
        if wait > 0:
            time.sleep(wait)
        elif wait < -0.05:
            late.append(-wait)
        futures.append(pool.submit(target.get))
    return futures


def _tally(results: list) -> dict:
    statuses = {}
    for status, _ in results:
        statuses[status] = statuses.get(status, 0) + 1
    refused_without_retry_after = sum(1 for status, retry in results if status == 429 and not retry)
    return {
        "sent": len(results),
        "accepted": statuses.get(200, 0),
        "refused": statuses.get(429, 0),
        "other": {str(k): v for k, v in statuses.items() if k not in (200, 429)},
        "refused_without_retry_after": refused_without_retry_after,
    }


def _sustained(a: _Target, b: _Target, redis_client, bucket: str) -> dict:
    """T runs from A's first take to its last, both read from the bucket (the script stores the
    Redis `TIME` of each take in `ts`): one opening request alone, then the paced load at once,
    so the full bucket wastes no refill before the load begins."""
    late_a, late_b = [], []
    with concurrent.futures.ThreadPoolExecutor(max_workers=96) as pool:
        list(pool.map(lambda _: None, range(96)))  # threads up before the clock starts
        opening = a.get()
        first_take = float(redis_client.hget(bucket, "ts"))
        began = time.monotonic()
        results = {}

        def drive(name, target, rate, late):
            results[name] = _paced(target, rate, SECONDS, pool, began, late)

        threads = [
            threading.Thread(target=drive, args=("A", a, RATE_A, late_a)),
            threading.Thread(target=drive, args=("B", b, RATE_B, late_b)),
        ]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        done_a = [opening] + [f.result() for f in results["A"]]
        done_b = [f.result() for f in results["B"]]
        wall = time.monotonic() - began
    span = float(redis_client.hget(bucket, "ts")) - first_take
    a_tally, b_tally = _tally(done_a), _tally(done_b)
    allowed = BURST + REFILL * span
    return {
        "seconds": SECONDS,
        "span": span,
        "wall": wall,
        "allowed": allowed,
        "A": a_tally,
        "B": b_tally,
        "late_a": len(late_a),
        "late_b": len(late_b),
        "ratio": a_tally["accepted"] / allowed,
    }


def _burst(a: _Target, redis_client) -> dict:
    gate = threading.Barrier(BURST_REQUESTS + 1)
    results = [None] * BURST_REQUESTS

    def one(i):
        gate.wait()
        results[i] = a.get()

    threads = [threading.Thread(target=one, args=(i,)) for i in range(BURST_REQUESTS)]
    for thread in threads:
        thread.start()
    began = _redis_now(redis_client)
    gate.wait()
    for thread in threads:
        thread.join()
    span = _redis_now(redis_client) - began  # from before the release to after the last answer
    tally = _tally(results)
    return {**tally, "span": span, "allowed": BURST + REFILL * span}


# --- report -------------------------------------------------------------------------------------
def portal_rows(portal: dict) -> list[tuple[str, str, str, bool | None]]:
    """(what, figure, target, passed) per measure."""
    s, b, c = portal["sustained"], portal["burst"], portal["cost"]
    a_tally, b_tally = s["A"], s["B"]
    accepted, allowed = a_tally["accepted"], s["allowed"]
    return [
        (
            f"A at {RATE_A} req/s for {s['seconds']} s: accepted vs 100 + 80·T (T = {s['span']:.3f} s on "
            f"Redis's clock, {a_tally['sent']} sent, {a_tally['refused']} refused)",
            f"{accepted} / {allowed:.1f}",
            "99–100 %",
            0.99 * allowed <= accepted <= allowed,
        ),
        (
            f"A's load reached the bucket in time: T vs the {s['seconds']} s of sending (a busy machine queues it)",
            f"{s['span']:.2f} s",
            f"≤ {s['seconds'] * 1.1:.0f} s",
            s["span"] <= s["seconds"] * 1.1,
        ),
        (
            f"B at {RATE_B} req/s at the same time: 429s ({b_tally['accepted']} of {b_tally['sent']} accepted)",
            str(b_tally["refused"]),
            "0",
            b_tally["refused"] == 0 and b_tally["accepted"] == b_tally["sent"],
        ),
        (
            "refusals without Retry-After, answers neither 200 nor 429",
            f"{a_tally['refused_without_retry_after'] + b['refused_without_retry_after']}, "
            f"{sum(a_tally['other'].values()) + sum(b_tally['other'].values()) + sum(b['other'].values())}",
            "0, 0",
            a_tally["refused_without_retry_after"] + b["refused_without_retry_after"] == 0
            and not a_tally["other"]
            and not b_tally["other"]
            and not b["other"],
        ),
        (
            f"burst of {BURST_REQUESTS} on a full bucket across {portal['workers']} workers: accepted vs "
            f"100 + refill (burst took {b['span'] * 1000:.0f} ms)",
            f"{b['accepted']} / {b['allowed']:.1f}",
            "100 ≤ n ≤ 100 + refill",
            BURST <= b["accepted"] <= b["allowed"],
        ),
        (
            "the burst tells one shared bucket from one per worker (100 + refill < 200 requests)",
            f"{b['allowed']:.1f}",
            f"< {BURST_REQUESTS}",
            b["allowed"] < BURST_REQUESTS,
        ),
        ("load generator behind schedule by > 50 ms (requests)", str(s["late_a"] + s["late_b"]), "–", None),
        (
            f"limiter's own cost per request, p50 / p99 ({c['samples']:,} calls, one Lua script each)",
            f"{c['p50_ms']:.3f} / {c['p99_ms']:.3f} ms",
            "–",
            None,
        ),
    ]


def portal_failures(portal: dict) -> list[str]:
    if "skipped" in portal:
        return []
    return [what.split(" (", 1)[0] for what, _, _, passed in portal_rows(portal) if passed is False]
