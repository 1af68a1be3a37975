"""The load generator: `run_load` sends the requests it is given to a server for a number of
seconds and returns what it measured; `interleaved` drives several endpoints that way in ABBA
slices and merges each one's slices.

The requests are either one `Request`, which CONNECTIONS connections send over and over (the
HTTP part's GETs), or one sequence of requests per connection, each connection sending its own
in order (the protocol part's signed PUTs: every body is fresh and may be sent only once). The
tool is `wrk` (installed with apt when missing and we are root) or, failing that, Python threads
with http.client. wrk builds one repeated request itself (-H headers); sequences it replays from
a file per connection through a Lua script (WRK_STREAMS_LUA). Either way wrk writes its summary
and latency histogram from its done() hook, so slices merge exactly.
"""

import http.client
import itertools
import os
import shutil
import subprocess
import threading
import time
import urllib.parse
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path

from tests.bench.common import CONNECTIONS, DURATION, ROUNDS, TOOL, WARMUP, BenchError, log

PY_MAX_REQUESTS = 500_000  # per endpoint run, bound for the Python load generator


@dataclass(frozen=True)
class Request:
    method: str
    path: str
    headers: dict = field(default_factory=dict)
    body: str | None = None


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


def tool_version(wrk: str | None, *, threads: int | None = None) -> str:
    if not wrk:
        return f"Python load generator (tests/bench/run.py: {CONNECTIONS} threads, http.client)"
    done = subprocess.run([wrk, "--version"], capture_output=True, text=True, timeout=10, check=False)
    first = (done.stdout or done.stderr).strip().splitlines()
    name = first[0].split(" [")[0] if first else "wrk"
    threads = threads or min(2, CONNECTIONS)
    return f"{name} (-t{threads} -c{CONNECTIONS}, latency histogram from a Lua done() hook)"


# --- samples --------------------------------------------------------------------------------------
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


# --- one load run ---------------------------------------------------------------------------------
def run_load(
    base: str,
    requests: Request | list[Iterable[Request]],
    seconds: int,
    workdir: Path,
    wrk: str | None,
    *,
    allow_status_errors: bool = False,
) -> dict:
    """Send `requests` to the server at `base` for `seconds`, with wrk (its path) or Python.

    `requests`: one Request, sent over and over by CONNECTIONS connections; or a list with one
    sequence of Requests per connection, each sent once, in order (read in full before the load
    starts; within a sequence only the bodies may differ). A connection that runs out of requests
    fails the run, as does a non-2xx answer unless `allow_status_errors` (then they are counted).
    Returns the sample: requests, seconds, socket errors, latency histogram (µs), status_errors."""
    if isinstance(requests, Request):
        label = f"{base}{requests.path}"
        if wrk:
            return _wrk_repeated(wrk, base, requests, seconds, workdir, label, allow_status_errors)
        streams = [itertools.repeat(requests) for _ in range(CONNECTIONS)]
    else:
        streams = [list(sequence) for sequence in requests]
        label = streams[0][0].path
        if wrk:
            return _wrk_streams(wrk, base, streams, seconds, workdir, label, allow_status_errors)
    return _python(base, streams, seconds, label, allow_status_errors)


# wrk writes its own summary and latency histogram (microsecond buckets) from Lua, so slices
# of a run merge exactly: requests/s = all requests / all time, percentiles over all requests.
WRK_DONE_LUA = """
done = function(summary, latency, requests)
  local out = assert(io.open("%(path)s", "w"))
  local e = summary.errors
  out:write(string.format("summary %%d %%d %%d %%d\\n", summary.requests, summary.duration,
    e.status, e.connect + e.read + e.write + e.timeout))
  for i = 1, #latency do
    local micros, n = latency(i)
    out:write(string.format("%%d %%d\\n", micros, n))
  end
%(extra)s  out:close()
end
"""


def wrk_done_lua(path: Path, extra: str = "") -> str:
    """wrk's done() hook writing the summary and histogram to `path`; `extra`: more Lua lines
    written before the file is closed."""
    return WRK_DONE_LUA % {"path": path, "extra": extra}


# wrk with sequences: one connection per thread, each thread cycling through its own file (line 1
# the method, line 2 the path, then one header per line, an empty line, and one body per line), so
# that a signed body carries a fresh syncSequence / syncCounter for one lock / phone, in order. A
# thread that runs out says so (`exhausted`), and the run fails rather than resend a body (a replay).
WRK_STREAMS_LUA = """
local threads = {}
local counter = 0

function setup(thread)
  thread:set("id", counter)
  counter = counter + 1
  table.insert(threads, thread)
end

function init(args)
  local f = assert(io.open(string.format("%(dir)s/stream-%%d.txt", id), "r"))
  method = f:read("*l")
  path = f:read("*l")
  for line in f:lines() do
    if line == "" then break end
    local name, value = line:match("^(.-): (.*)$")
    wrk.headers[name] = value
  end
  bodies = {}
  for line in f:lines() do bodies[#bodies + 1] = line end
  f:close()
  sent = 0
  exhausted = 0
end

function request()
  sent = sent + 1
  if sent > #bodies then
    exhausted = 1
    sent = #bodies
  end
  return wrk.format(method, path, nil, bodies[sent])
end
"""
# Appended to the done() hook: how far each thread got through its bodies.
WRK_STREAMS_DONE_LUA = """  for _, t in ipairs(threads) do
    out:write(string.format("thread %d %d\\n", t:get("sent"), t:get("exhausted")))
  end
"""


def _wrk_repeated(
    wrk: str, base: str, request: Request, seconds: int, workdir: Path, label: str, allow_status_errors: bool
) -> dict:
    """wrk's own request builder: one GET with its headers, CONNECTIONS connections on up to 2 threads."""
    if request.method != "GET" or request.body is not None:
        raise ValueError("a repeated request is sent by wrk as a GET without a body")
    out_path = workdir / "wrk-result.txt"
    script = workdir / "wrk-done.lua"
    script.write_text(wrk_done_lua(out_path))
    out_path.unlink(missing_ok=True)
    args = [wrk, f"-t{min(2, CONNECTIONS)}", f"-c{CONNECTIONS}", f"-d{seconds}s", "--timeout", "5s", "-s", str(script)]
    for name, value in request.headers.items():
        args += ["-H", f"{name}: {value}"]
    url = f"{base}{request.path}"
    done = subprocess.run([*args, url], capture_output=True, text=True, timeout=seconds + 30, check=False)
    return _wrk_sample(done, out_path, label, allow_status_errors)


def _wrk_streams(
    wrk: str,
    base: str,
    streams: list[list[Request]],
    seconds: int,
    workdir: Path,
    label: str,
    allow_status_errors: bool,
) -> dict:
    """One thread and connection per sequence, replaying it from its file (WRK_STREAMS_LUA)."""
    folder = workdir / "streams"
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir()
    for n, sequence in enumerate(streams):
        first = sequence[0]
        if any((r.method, r.path, r.headers) != (first.method, first.path, first.headers) for r in sequence):
            raise ValueError("wrk replays one method, path and headers per connection; only the bodies may differ")
        head = [first.method, first.path, *(f"{name}: {value}" for name, value in first.headers.items()), ""]
        (folder / f"stream-{n}.txt").write_text("\n".join([*head, *(r.body or "" for r in sequence)]) + "\n")
    out_path = workdir / "wrk-result.txt"
    script = workdir / "wrk-streams.lua"
    script.write_text(WRK_STREAMS_LUA % {"dir": folder} + wrk_done_lua(out_path, WRK_STREAMS_DONE_LUA))
    out_path.unlink(missing_ok=True)
    n = len(streams)
    args = [wrk, f"-t{n}", f"-c{n}", f"-d{seconds}s", "--timeout", "5s", "-s", str(script), f"{base}/"]
    done = subprocess.run(args, capture_output=True, text=True, timeout=seconds + 60, check=False)
    return _wrk_sample(done, out_path, label, allow_status_errors)


def _wrk_sample(done: subprocess.CompletedProcess, out_path: Path, label: str, allow_status_errors: bool) -> dict:
    """The sample wrk's done() hook wrote (summary, histogram, and per-thread lines for sequences)."""
    if done.returncode != 0 or not out_path.exists():
        raise BenchError(f"wrk failed ({done.returncode}): {done.stderr or done.stdout}")
    lines = out_path.read_text().split("\n")
    _, requests, micros, status_errors, socket_errors = lines[0].split()
    hist, exhausted = Counter(), 0
    for line in lines[1:]:
        if line.startswith("thread "):
            exhausted += int(line.split()[2])
        elif line:
            value, count = line.split()
            hist[int(value)] += int(count)
    if exhausted:
        raise BenchError(f"{label}: {exhausted} connection(s) ran out of signed bodies (BODIES_MIN)")
    if int(status_errors) and not allow_status_errors:
        raise BenchError(f"{label}: {status_errors} non-2xx/3xx responses under load:\n{done.stdout}")
    return {
        "requests": int(requests),
        "seconds": int(micros) / 1e6,
        "errors": int(socket_errors),
        "hist": hist,
        "status_errors": int(status_errors),
    }


def _python(base: str, streams: list, seconds: int, label: str, allow_status_errors: bool) -> dict:
    """One thread and http.client connection per stream (re-opened when the server closes it);
    bounded by time, by the stream and by PY_MAX_REQUESTS over all."""
    target = urllib.parse.urlsplit(base)
    deadline = time.monotonic() + seconds
    lock = threading.Lock()
    sample = new_sample()
    statuses: list[tuple[int, bytes]] = []
    exhausted = []
    budget = [PY_MAX_REQUESTS]

    def worker(stream: Iterable[Request]):
        conn = http.client.HTTPConnection(target.hostname, target.port, timeout=10)
        hist, errors, queue = Counter(), 0, iter(stream)
        try:
            while time.monotonic() < deadline:
                with lock:
                    if budget[0] <= 0:
                        break
                    budget[0] -= 1
                request = next(queue, None)
                if request is None:
                    with lock:
                        exhausted.append(label)
                    break
                started = time.perf_counter()
                try:
                    body = None if request.body is None else request.body.encode()
                    conn.request(request.method, request.path, body=body, headers=request.headers)
                    response = conn.getresponse()
                    content = response.read()
                except (OSError, http.client.HTTPException):
                    conn.close()
                    errors += 1
                    continue
                hist[int((time.perf_counter() - started) * 1e6)] += 1
                if response.status != 200:
                    with lock:
                        statuses.append((response.status, content[:300]))
                if response.will_close:
                    conn.close()
        finally:
            conn.close()
            with lock:
                merge(sample, {"requests": sum(hist.values()), "seconds": 0.0, "errors": errors, "hist": hist})

    started = time.monotonic()
    workers = [threading.Thread(target=worker, args=(stream,), daemon=True) for stream in streams]
    for w in workers:
        w.start()
    for w in workers:
        w.join(timeout=seconds + 30)
    sample["seconds"] = time.monotonic() - started
    if exhausted:
        raise BenchError(f"{label}: {len(exhausted)} connection(s) ran out of signed bodies")
    if statuses and not allow_status_errors:
        raise BenchError(f"{label}: {len(statuses)} non-200 responses under load (first: {statuses[0]})")
    sample["status_errors"] = len(statuses)
    return sample


# --- several endpoints, interleaved ---------------------------------------------------------------
def interleaved(names: list[str], drive: Callable[[str, int], dict], wrk: str | None, prefix: str = "") -> dict:
    """Warm each endpoint up (WARMUP s), then drive each for ROUNDS slices of DURATION / ROUNDS s,
    in ABBA order (reversed every other round) so that load from anything else on the machine
    falls on every endpoint alike; `drive(name, seconds)` runs one slice and returns its sample.
    Returns each endpoint's merged slices, summarized."""
    if WARMUP:
        log(f"{prefix}warming up ({WARMUP} s per endpoint, {len(names)} endpoints)")
        for name in names:
            drive(name, WARMUP)
    samples = {name: new_sample() for name in names}
    slice_seconds = max(1, round(DURATION / ROUNDS))
    log(f"{prefix}measuring {ROUNDS} x {slice_seconds} s per endpoint, interleaved ({'wrk' if wrk else 'python'})")
    for round_no in range(ROUNDS):
        order = list(names) if round_no % 2 == 0 else list(reversed(names))
        for name in order:
            merge(samples[name], drive(name, slice_seconds))
    return {name: summarize(sample) for name, sample in samples.items()}
