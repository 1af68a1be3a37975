"""`make bench`: API overhead of Keyhouse's enveloped, authenticated, paged list vs a bare DRF view.

One run, one gunicorn (-w 2) on loopback, one fresh SQLite database in a temporary directory:

1. migrate, seed 60 API keys (tests/bench/seed.py, which also counts SQL queries per list
   request in-process for 10 and 60 keys: the count must be flat);
2. start `gunicorn config.wsgi:application -w 2` with DJANGO_SETTINGS_MODULE=tests.bench.settings
   (the normal URLconf plus /bench/bare; throttle rates raised so no 429 skews the figures);
3. check both endpoints answer 200 with a full page, warm up, then drive each for a fixed
   time, in interleaved slices (ABBA) so outside load hits both alike, with `wrk` (installed
   with apt when missing and we are root) or, failing that, a Python thread + http.client
   load generator;
4. print requests/s, p50/p99 latency and the ratio enveloped/bare, and rewrite the figures
   block of docs/PERFORMANCE.md between its markers.

Knobs (environment): BENCH_DURATION (s per endpoint, default 8), BENCH_WARMUP (s, default 2),
BENCH_ROUNDS (interleaved slices, default 4), BENCH_CONNECTIONS (default 4),
BENCH_TOOL (wrk | python; default: wrk when available),
BENCH_WRITE_DOC (default true), BENCH_KEEP_TMP (keep the temp dir, default false).
"""

import datetime as dt
import http.client
import json
import os
import platform
import secrets
import shutil
import signal
import socket
import string
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
DOC = ROOT / "docs" / "PERFORMANCE.md"
START_MARK = "<!-- bench:api-overhead:start -->"
END_MARK = "<!-- bench:api-overhead:end -->"
SETTINGS_MODULE = "tests.bench.settings"
HOST = "127.0.0.1"
ENVELOPED = "/api/v1/api-keys"
BARE = "/bench/bare"
SEED_KEYS = 60

DURATION = max(1, min(int(os.environ.get("BENCH_DURATION", "8")), 60))
WARMUP = max(0, min(int(os.environ.get("BENCH_WARMUP", "2")), 30))
CONNECTIONS = max(1, min(int(os.environ.get("BENCH_CONNECTIONS", "4")), 64))
ROUNDS = max(1, min(int(os.environ.get("BENCH_ROUNDS", "4")), 20))
TOOL = os.environ.get("BENCH_TOOL", "").strip().lower()
WRITE_DOC = os.environ.get("BENCH_WRITE_DOC", "true").strip().lower() not in ("0", "false", "no", "off")
KEEP_TMP = os.environ.get("BENCH_KEEP_TMP", "").strip().lower() in ("1", "true", "yes", "on")
PY_MAX_REQUESTS = 500_000  # per endpoint run, bound for the Python load generator


class BenchError(RuntimeError):
    pass


def log(message: str) -> None:
    print(f"[bench] {message}", flush=True)


# --- environment and processes -------------------------------------------------------------
def bench_env(tmp: Path) -> dict:
    env = {k: v for k, v in os.environ.items() if k not in ("REDIS_URL", "DATABASE_URL", "DJANGO_SETTINGS_MODULE")}
    alphabet = string.ascii_letters + string.digits
    env.update(
        DJANGO_SETTINGS_MODULE=SETTINGS_MODULE,
        DATABASE_URL=f"sqlite:///{tmp / 'bench.sqlite3'}",
        KEYHOUSE_VAR_DIR=str(tmp / "var"),
        DEBUG="false",
        SECRET_KEY=secrets.token_urlsafe(50),
        KEYHOUSE_SECRET_PEPPERS="1:" + "".join(secrets.choice(alphabet) for _ in range(32)),
        ALLOWED_HOSTS=HOST,
        LOG_LEVEL="WARNING",
        PYTHONPATH=os.pathsep.join(filter(None, [str(ROOT), env.get("PYTHONPATH", "")])),
        PYTHONDONTWRITEBYTECODE="1",
    )
    return env


def run_checked(args: list[str], env: dict, *, timeout: int, what: str) -> str:
    try:
        done = subprocess.run(args, cwd=ROOT, env=env, capture_output=True, text=True, timeout=timeout, check=False)
    except subprocess.TimeoutExpired:
        raise BenchError(f"{what}: timed out after {timeout}s") from None
    if done.returncode != 0:
        raise BenchError(f"{what} failed (exit {done.returncode}):\n{done.stdout[-3000:]}\n{done.stderr[-3000:]}")
    return done.stdout


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((HOST, 0))
        return sock.getsockname()[1]


def gunicorn_command(port: int) -> list[str]:
    exe = Path(sys.executable).parent / "gunicorn"
    head = [str(exe)] if exe.exists() else [sys.executable, "-m", "gunicorn"]
    return [
        *head,
        "config.wsgi:application",
        "-w",
        "2",
        "-b",
        f"{HOST}:{port}",
        "--log-level",
        "warning",
        "--timeout",
        "30",
        "--graceful-timeout",
        "5",
    ]


def wait_healthy(base: str, proc: subprocess.Popen, log_path: Path, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    last = "no answer"
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise BenchError(f"gunicorn exited with {proc.returncode}:\n{tail(log_path)}")
        try:
            with urllib.request.urlopen(f"{base}/healthz", timeout=2) as response:  # noqa: S310 - loopback
                if response.status == 200:
                    return
                last = f"status {response.status}"
        except (urllib.error.URLError, OSError) as exc:
            last = str(exc)
        time.sleep(0.2)
    raise BenchError(f"gunicorn not healthy after {timeout}s ({last}):\n{tail(log_path)}")


def stop(proc: subprocess.Popen) -> None:
    if proc.poll() is not None:
        return
    proc.send_signal(signal.SIGTERM)
    try:
        proc.wait(timeout=15)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)  # its own session: gunicorn master and its workers
        proc.wait(timeout=5)


def tail(path: Path, lines: int = 40) -> str:
    try:
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return ""


# --- checks ---------------------------------------------------------------------------------
def fetch(base: str, path: str, headers: dict) -> tuple[int, bytes]:
    request = urllib.request.Request(f"{base}{path}", headers=headers)  # noqa: S310 - loopback
    try:
        with urllib.request.urlopen(request, timeout=10) as response:  # noqa: S310
            return response.status, response.read()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read()


def verify(base: str, auth: dict, page_size: int) -> dict:
    """Both endpoints answer 200 with a full page; returns body sizes. Fails loudly otherwise."""
    status, body = fetch(base, ENVELOPED, auth)
    if status != 200:
        raise BenchError(f"GET {ENVELOPED} answered {status}: {body[:500]!r}")
    doc = json.loads(body)
    items = (doc.get("data") or {}).get("apiKeys")
    if doc.get("success") is not True or doc.get("error") is not None or not isinstance(items, list):
        raise BenchError(f"GET {ENVELOPED}: not the expected envelope: {body[:500]!r}")
    if len(items) != page_size or not doc["data"].get("pageToken"):
        raise BenchError(f"GET {ENVELOPED}: expected a full page of {page_size} with a pageToken, got {len(items)}")
    status, bare = fetch(base, BARE, {})
    if status != 200:
        raise BenchError(f"GET {BARE} answered {status}: {bare[:500]!r}")
    if len(json.loads(bare)) != page_size:
        raise BenchError(f"GET {BARE}: expected {page_size} rows")
    return {ENVELOPED: len(body), BARE: len(bare)}


# --- load generators ----------------------------------------------------------------------
def ensure_wrk() -> str | None:
    found = shutil.which("wrk")
    if found or TOOL == "python":
        return found
    if hasattr(os, "geteuid") and os.geteuid() == 0 and shutil.which("apt-get"):
        log("wrk missing: installing it with apt-get (root)")
        apt_env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
        try:
            subprocess.run(
                ["apt-get", "install", "-y", "-qq", "wrk"], env=apt_env, capture_output=True, timeout=120, check=False
            )
            if not shutil.which("wrk"):
                subprocess.run(["apt-get", "update", "-qq"], env=apt_env, capture_output=True, timeout=120, check=False)
                subprocess.run(
                    ["apt-get", "install", "-y", "-qq", "wrk"],
                    env=apt_env,
                    capture_output=True,
                    timeout=120,
                    check=False,
                )
        except subprocess.TimeoutExpired:
            log("apt-get timed out")
        found = shutil.which("wrk")
    if not found:
        log("wrk not available: using the Python load generator (lower ceiling; the ratio still holds)")
    return found


# wrk writes its own summary and latency histogram (microsecond buckets) from Lua, so slices
# of a run merge exactly: requests/s = all requests / all time, percentiles over all requests.
WRK_LUA = """
done = function(summary, latency, requests)
  local out = assert(io.open("%(path)s", "w"))
  local e = summary.errors
  out:write(string.format("summary %%d %%d %%d %%d\\n", summary.requests, summary.duration,
    e.status, e.connect + e.read + e.write + e.timeout))
  for i = 1, #latency do
    local micros, n = latency(i)
    out:write(string.format("%%d %%d\\n", micros, n))
  end
  out:close()
end
"""


def new_sample() -> dict:
    return {"requests": 0, "seconds": 0.0, "errors": 0, "hist": Counter()}


def merge(into: dict, sample: dict) -> dict:
    into["requests"] += sample["requests"]
    into["seconds"] += sample["seconds"]
    into["errors"] += sample["errors"]
    into["hist"].update(sample["hist"])
    return into


def summarize(sample: dict) -> dict:
    def pct(p):
        target, seen = sample["requests"] * p / 100, 0
        for micros in sorted(sample["hist"]):
            seen += sample["hist"][micros]
            if seen >= target:
                return micros / 1000
        return None

    rps = sample["requests"] / sample["seconds"] if sample["seconds"] else 0.0
    return {
        "rps": rps,
        "requests": sample["requests"],
        "p50": pct(50),
        "p99": pct(99),
        "socket_errors": sample["errors"],
    }


def run_wrk(wrk: str, url: str, headers: dict, duration: int, workdir: Path) -> dict:
    out_path = workdir / "wrk-result.txt"
    script = workdir / "wrk-done.lua"
    script.write_text(WRK_LUA % {"path": out_path})
    out_path.unlink(missing_ok=True)
    args = [wrk, f"-t{min(2, CONNECTIONS)}", f"-c{CONNECTIONS}", f"-d{duration}s", "--timeout", "5s", "-s", str(script)]
    for name, value in headers.items():
        args += ["-H", f"{name}: {value}"]
    done = subprocess.run([*args, url], capture_output=True, text=True, timeout=duration + 30, check=False)
    if done.returncode != 0 or not out_path.exists():
        raise BenchError(f"wrk failed ({done.returncode}): {done.stderr or done.stdout}")
    lines = out_path.read_text().split("\n")
    _, requests, micros, status_errors, socket_errors = lines[0].split()
    if int(status_errors):
        raise BenchError(f"{url}: {status_errors} non-2xx/3xx responses under load:\n{done.stdout}")
    hist = Counter()
    for line in lines[1:]:
        if line:
            value, count = line.split()
            hist[int(value)] += int(count)
    return {"requests": int(requests), "seconds": int(micros) / 1e6, "errors": int(socket_errors), "hist": hist}


def run_python(url: str, headers: dict, duration: int, workdir: Path) -> dict:
    """Threads with http.client connections (re-opened when the server closes them);
    bounded by time and by PY_MAX_REQUESTS."""
    target = urllib.parse.urlsplit(url)
    deadline = time.monotonic() + duration
    lock = threading.Lock()
    sample = new_sample()
    statuses: list[int] = []
    budget = [PY_MAX_REQUESTS]

    def worker():
        conn = http.client.HTTPConnection(target.hostname, target.port, timeout=10)
        hist, errors = Counter(), 0
        try:
            while time.monotonic() < deadline:
                with lock:
                    if budget[0] <= 0:
                        break
                    budget[0] -= 1
                started = time.perf_counter()
                try:
                    conn.request("GET", target.path, headers=headers)
                    response = conn.getresponse()
                    response.read()
                except (OSError, http.client.HTTPException):
                    conn.close()
                    errors += 1
                    continue
                hist[int((time.perf_counter() - started) * 1e6)] += 1
                if response.status != 200:
                    with lock:
                        statuses.append(response.status)
                if response.will_close:
                    conn.close()
        finally:
            conn.close()
            with lock:
                merge(sample, {"requests": sum(hist.values()), "seconds": 0.0, "errors": errors, "hist": hist})

    started = time.monotonic()
    workers = [threading.Thread(target=worker, daemon=True) for _ in range(CONNECTIONS)]
    for w in workers:
        w.start()
    for w in workers:
        w.join(timeout=duration + 30)
    sample["seconds"] = time.monotonic() - started
    if statuses:
        raise BenchError(f"{url}: {len(statuses)} non-200 responses under load (first: {statuses[0]})")
    return sample


# --- report ----------------------------------------------------------------------------------
def fmt_ms(value) -> str:
    return "n/a" if value is None else f"{value:.2f} ms"


def machine() -> dict:
    cpu = ""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    try:
        load = "load average " + " / ".join(f"{x:.2f}" for x in os.getloadavg())
    except OSError:
        load = "load average unknown"
    return {
        "load": load,
        "nproc": os.cpu_count(),
        "cpu": cpu or platform.processor() or "unknown",
        "python": platform.python_version(),
        "os": f"{platform.system()} {platform.release()}",
    }


def versions(env: dict) -> str:
    code = (
        "import django, rest_framework, gunicorn; "
        "print(f'Django {django.get_version()}, DRF {rest_framework.VERSION}, gunicorn {gunicorn.__version__}')"
    )
    try:
        return run_checked([sys.executable, "-c", code], env, timeout=30, what="versions").strip()
    except BenchError:
        return "unknown"


def tool_version(wrk: str | None) -> str:
    if not wrk:
        return f"Python load generator (tests/bench/run.py: {CONNECTIONS} threads, http.client)"
    done = subprocess.run([wrk, "--version"], capture_output=True, text=True, timeout=10, check=False)
    first = (done.stdout or done.stderr).strip().splitlines()
    name = first[0].split(" [")[0] if first else "wrk"
    return f"{name} (-t{min(2, CONNECTIONS)} -c{CONNECTIONS}, latency histogram from a Lua done() hook)"


def figures_block(results: dict, seed: dict, meta: dict) -> str:
    env, bare = results[ENVELOPED], results[BARE]
    ratio = env["rps"] / bare["rps"] if bare["rps"] else float("nan")
    q = seed["queries"]
    flat = "flat" if q["10"] == q["60"] else "NOT FLAT"
    lines = [
        START_MARK,
        f"Measured {meta['date']} by `make bench` (tests/bench/run.py).",
        "",
        f"- Machine: {meta['machine']['nproc']} CPUs ({meta['machine']['cpu']}), {meta['machine']['os']}, "
        f"Python {meta['machine']['python']}; {meta['versions']}; {meta['machine']['load']} (1/5/15 min) "
        "before the run: anything else running shares the CPUs",
        f"- Server: gunicorn -w 2 (sync workers) on {HOST}, DEBUG=false, fresh SQLite database, "
        "local-memory cache, eager Celery; load generator on the same machine",
        f"- Tool: {meta['tool']}; {WARMUP} s warm-up per endpoint, then {ROUNDS} interleaved slices "
        f"of {max(1, round(DURATION / ROUNDS))} s per endpoint (ABBA order), merged",
        f"- Data: {seed['keys']} API keys, one `owner` grant each; both endpoints return {seed['page_size']} of them "
        f"(enveloped body {meta['sizes'][ENVELOPED]} B, bare body {meta['sizes'][BARE]} B)",
        "",
        "| endpoint | requests/s | p50 | p99 | requests |",
        "| --- | ---: | ---: | ---: | ---: |",
        f"| `GET {BARE}` (bare DRF) | {bare['rps']:.1f} | {fmt_ms(bare['p50'])} | {fmt_ms(bare['p99'])} "
        f"| {bare['requests']} |",
        f"| `GET {ENVELOPED}` (enveloped) | {env['rps']:.1f} | {fmt_ms(env['p50'])} | {fmt_ms(env['p99'])} "
        f"| {env['requests']} |",
        "",
        f"**Ratio enveloped / bare: {ratio:.2f}** (the enveloped list serves {ratio:.0%} of the bare view's rate).",
        "",
        f"SQL queries per `GET {ENVELOPED}` (Django test client, `CaptureQueriesContext`): "
        f"{q['10']} with 10 keys, {q['60']} with 60 keys ({flat}); "
        f"{seed['first_use_queries']} on a key's first use in a minute (the `lastUsedAt` write).",
        END_MARK,
    ]
    return "\n".join(lines)


DOC_HEAD = """# Performance

Figures measured on this project's machines, each with how to re-run it. Numbers from a shared
2-CPU machine with the load generator on the same box are for comparing like with like in
one run (a ratio), not absolute capacity.
"""

DOC_SECTION = """
## API overhead: enveloped list vs bare DRF

What one API request costs on top of plain Django REST framework, on the same stack and in the
same run: `GET /api/v1/api-keys` (Bearer API-key authentication with its credential lookup,
operation permission check, per-principal and per-address throttles, keyset paging with a
signed `pageToken`, camelCase entity serializer with grants prefetched, `{success, error, data}`
envelope) against `GET /bench/bare`, a plain `APIView` returning the same 50 `ApiKey` rows
through a trivial `ModelSerializer` with no authentication, permission, throttling, envelope or
paging (`tests/bench/baseline.py`, mounted only by the bench URLconf `tests/bench/urls.py`).
Throttle rates are raised in `tests/bench/settings.py` so no 429 interferes; the throttles still run.

Re-run: `make bench` (about half a minute; installs `wrk` with apt when missing and root,
else falls back to a Python load generator). Knobs: `BENCH_DURATION` (s per endpoint, default 8),
`BENCH_WARMUP` (default 2), `BENCH_ROUNDS` (interleaved slices, default 4), `BENCH_CONNECTIONS`
(default 4), `BENCH_TOOL=python`,
`BENCH_WRITE_DOC=false` (do not rewrite this file). The block below is rewritten by each run.

{block}
"""


def write_doc(block: str) -> None:
    text = DOC.read_text() if DOC.exists() else DOC_HEAD
    if START_MARK in text and END_MARK in text:
        head, rest = text.split(START_MARK, 1)
        _, tail_text = rest.split(END_MARK, 1)
        text = head + block + tail_text
    else:
        text = text.rstrip("\n") + "\n" + DOC_SECTION.replace("{block}", block)
    DOC.parent.mkdir(parents=True, exist_ok=True)
    DOC.write_text(text)


# --- main ---------------------------------------------------------------------------------------
def main() -> int:
    began = time.monotonic()
    machine_info = machine()  # load average before we add any
    tmp = Path(tempfile.mkdtemp(prefix="keyhouse-bench-"))
    env = bench_env(tmp)
    proc = None
    log_path = tmp / "gunicorn.log"
    try:
        log(f"temp dir {tmp}; migrating a fresh SQLite database")
        run_checked([sys.executable, "manage.py", "migrate", "--noinput", "-v0"], env, timeout=120, what="migrate")
        log(f"seeding {SEED_KEYS} API keys and counting queries in-process")
        seed = json.loads(
            run_checked([sys.executable, "-m", "tests.bench.seed"], env, timeout=120, what="seed")
            .strip()
            .splitlines()[-1]
        )
        auth = {"Authorization": f"Bearer {seed['secret']}"}

        wrk = ensure_wrk() if TOOL != "python" else None
        port = free_port()
        base = f"http://{HOST}:{port}"
        log(f"starting gunicorn -w 2 on {base} (settings {SETTINGS_MODULE})")
        with open(log_path, "wb") as gunicorn_log:
            proc = subprocess.Popen(
                gunicorn_command(port),
                cwd=ROOT,
                env=env,
                stdout=gunicorn_log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        wait_healthy(base, proc, log_path)
        sizes = verify(base, auth, seed["page_size"])

        generator = run_wrk if wrk else run_python

        def drive(path, headers, seconds):
            if wrk:
                return run_wrk(wrk, f"{base}{path}", headers, seconds, tmp)
            return run_python(f"{base}{path}", headers, seconds, tmp)

        if WARMUP:
            log(f"warming up ({WARMUP} s per endpoint)")
            drive(BARE, {}, WARMUP)
            drive(ENVELOPED, auth, WARMUP)
        # Interleaved slices (ABBA order), so load from anything else on the machine falls on
        # both endpoints alike; the slices of each endpoint are merged exactly.
        targets = {BARE: {}, ENVELOPED: auth}
        samples = {BARE: new_sample(), ENVELOPED: new_sample()}
        slice_seconds = max(1, round(DURATION / ROUNDS))
        log(f"measuring {ROUNDS} x {slice_seconds} s per endpoint, interleaved ({generator.__name__})")
        for round_no in range(ROUNDS):
            order = (BARE, ENVELOPED) if round_no % 2 == 0 else (ENVELOPED, BARE)
            for path in order:
                merge(samples[path], drive(path, targets[path], slice_seconds))
                if proc.poll() is not None:
                    raise BenchError(f"gunicorn died during the run:\n{tail(log_path)}")
        results = {path: summarize(sample) for path, sample in samples.items()}
        verify(base, auth, seed["page_size"])  # still healthy after the load
    except BenchError as exc:
        print(f"\n[bench] FAILED: {exc}", file=sys.stderr)
        return 1
    finally:
        if proc is not None:
            stop(proc)
        if KEEP_TMP:
            log(f"kept {tmp}")
        else:
            shutil.rmtree(tmp, ignore_errors=True)

    meta = {
        "date": dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "machine": machine_info,
        "versions": versions(env),
        "tool": tool_version(wrk),
        "sizes": sizes,
    }
    bare, enveloped = results[BARE], results[ENVELOPED]
    ratio = enveloped["rps"] / bare["rps"]
    q = seed["queries"]
    print()
    print(f"API overhead: enveloped list vs bare DRF  ({meta['tool']})")
    print(f"{'endpoint':<28} {'requests/s':>11} {'p50':>10} {'p99':>10} {'requests':>9} {'sock.err':>8}")
    for label, r in ((f"GET {BARE}", bare), (f"GET {ENVELOPED}", enveloped)):
        print(
            f"{label:<28} {r['rps']:>11.1f} {fmt_ms(r['p50']):>10} {fmt_ms(r['p99']):>10} {r['requests']:>9} "
            f"{r['socket_errors']:>8}"
        )
    print(f"ratio enveloped/bare: {ratio:.2f}")
    print(
        f"SQL queries per GET {ENVELOPED}: {q['10']} with 10 keys, {q['60']} with 60 keys "
        f"({'flat' if q['10'] == q['60'] else 'NOT FLAT'}); first use of a key: {seed['first_use_queries']}"
    )
    for sql in seed["sql"]["60"]:
        print(f"    {sql[:150]}")
    if WRITE_DOC:
        write_doc(figures_block(results, seed, meta))
        print(f"wrote {DOC.relative_to(ROOT)}")
    print(f"bench took {time.monotonic() - began:.0f} s")
    if q["10"] != q["60"]:
        print("[bench] FAILED: the query count grows with the number of keys (N+1)", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
