"""The lock and device protocol part (BENCH_PARTS=protocol): tests/bench/protocol.py's steps in
fresh processes (seed, build, setup), then, on SQLite, a probe of concurrent syncs in a gunicorn
of its own, and the load run: no-change syncLock and syncUserDevice against bare DRF views, each
request freshly signed (`protocol_bench`). The report prints its figures."""

import json
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

from tests.bench.common import CONNECTIONS, TOOL, BenchError, log, run_checked
from tests.bench.load import Request, ensure_wrk, interleaved, run_load
from tests.bench.server import gunicorn_running, tail

PROTOCOL_STEPS = (("seed", 900), ("build", 1800), ("revoke", 900))  # (step, timeout s); then `setup`
PUT_TIMEOUT = 30
# Signed bodies per connection and run: 3x the fastest rate seen for that endpoint, at least
# this many (the first run of an endpoint, its warm-up, uses BODIES_PER_SECOND_FIRST per second).
BODIES_MIN, BODIES_PER_SECOND_FIRST = 300, 400
PROBE_SECONDS = 2


def _put_json(base: str, path: str, auth: str, body: str) -> tuple[int, dict]:
    request = urllib.request.Request(  # noqa: S310 - loopback
        f"{base}{path}",
        data=body.encode(),
        method="PUT",
        headers={"Authorization": auth, "Content-Type": "application/json"},
    )
    try:
        with urllib.request.urlopen(request, timeout=PUT_TIMEOUT) as response:  # noqa: S310
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as exc:
        return exc.code, {"raw": exc.read()[:500].decode(errors="replace")}


def protocol_verify(base: str, generators: list) -> dict:
    """One request per lock / phone to its sync and to its bare view: 200, and the reference
    lock or phone accepts the signed answer. Returns the body sizes (request, answer)."""
    sizes = {}
    for gen in generators:
        body = gen.body()
        status, answer = _put_json(base, gen.path, gen.auth, body)
        if status != 200:
            raise BenchError(f"PUT {gen.path} answered {status}: {answer}")
        try:
            gen.check(answer)
        except Exception as exc:  # noqa: BLE001 - the reference lock/phone refuses: say why
            raise BenchError(f"PUT {gen.path}: the reference {gen.kind} refuses the answer: {exc!r}") from None
        sizes[gen.kind] = (len(body), len(json.dumps(answer, separators=(",", ":"))))
        status, bare = _put_json(base, gen.bare, gen.auth, gen.body())
        if status != 200 or bare.get("id") is None:
            raise BenchError(f"PUT {gen.bare} answered {status}: {bare}")
        sizes[f"bare-{gen.kind}"] = len(json.dumps(bare, separators=(",", ":")))
    return sizes


def _protocol_step(env: dict, args: list[str], timeout: int) -> dict:
    log(f"protocol: {args[0]} (python -m tests.bench.protocol {' '.join(args)})")
    started = time.monotonic()
    stdout = run_checked([sys.executable, "-m", "tests.bench.protocol", *args], env, timeout=timeout, what=args[0])
    log(f"protocol: {args[0]} took {time.monotonic() - started:.0f} s")
    return json.loads(stdout.strip().splitlines()[-1])


def _streams(generators: list, bare: bool, count: int) -> list[list[Request]]:
    """Per generator (connection), `count` no-change syncs, freshly signed, to the sync or its bare view."""
    streams = []
    for g in generators:
        path, headers = (g.bare if bare else g.path), {"Authorization": g.auth, "Content-Type": "application/json"}
        streams.append([Request("PUT", path, headers, g.body()) for _ in range(count)])
    return streams


def sqlite_probe(env: dict, tmp: Path, gens: dict, wrk: str | None) -> dict:
    """SQLite only: how many concurrent no-change syncs fail (non-2xx; "database is locked", see
    SQLITE_OPTIONS in config/settings.py) in PROBE_SECONDS each, in a gunicorn of their own."""
    out = {}
    with gunicorn_running(env, tmp, "protocol-probe") as server:
        base = server.base
        for name, kind in (("syncLock", "lock"), ("syncUserDevice", "device")):
            streams = _streams(gens[kind], False, max(BODIES_MIN, BODIES_PER_SECOND_FIRST * PROBE_SECONDS))
            sample = run_load(base, streams, PROBE_SECONDS, tmp, wrk, allow_status_errors=True)
            out[name] = {"requests": sample["requests"], "failed": sample["status_errors"]}
        locked = tail(server.log_path, 100_000).count("django.db.utils.OperationalError: database is locked")
    out["locked_errors_logged"] = locked
    # Resynchronise: a refused request left its lock / phone a number ahead, which is fine (gaps).
    return out


def protocol_bench(env: dict, tmp: Path) -> dict:
    """Seed, build and set up in fresh processes; then a gunicorn and the load run.

    Load: each of CONNECTIONS connections is one bench lock (or phone) sending its own
    no-change syncs, in order, one at a time: a sync must carry a syncSequence (syncCounter)
    above the last accepted, so two connections of one lock would race and get 409s. The
    bodies are signed by the reference lock / phone just before each run (current syncDate,
    fresh nonce) and replayed by wrk from a Lua script; the bare views get bodies of the same
    size. Four endpoints, interleaved ABBA slices as in the HTTP part. On SQLite, first a probe
    of concurrent syncs that must all succeed (`sqlite_probe`)."""
    from tests.bench.protocol import Generator  # lazily: it reads BENCH_ACCESS_RUNS when imported

    out = {step: _protocol_step(env, [step], timeout) for step, timeout in PROTOCOL_STEPS}
    state_path = tmp / "protocol-state.json"
    out["setup"] = _protocol_step(env, ["setup", str(state_path), str(CONNECTIONS)], 900)
    state = json.loads(state_path.read_text())
    gens = {
        "lock": [Generator("lock", s) for s in state["locks"]],
        "device": [Generator("device", s) for s in state["phones"]],
    }
    endpoints = {  # (generators, bare?)
        "bare-lock": (gens["lock"], True),
        "syncLock": (gens["lock"], False),
        "bare-device": (gens["device"], True),
        "syncUserDevice": (gens["device"], False),
    }
    wrk = ensure_wrk() if TOOL != "python" else None
    sqlite = env["DATABASE_URL"].startswith("sqlite")
    out["probe"] = sqlite_probe(env, tmp, gens, wrk) if sqlite else None
    fastest: dict[str, float] = {}  # requests/s per connection, per endpoint

    with gunicorn_running(env, tmp, "protocol") as server:
        base = server.base

        def drive(name: str, seconds: int) -> dict:
            generators, bare = endpoints[name]
            count = max(BODIES_MIN, int(fastest.get(name, BODIES_PER_SECOND_FIRST) * seconds * 3))
            sample = run_load(base, _streams(generators, bare, count), seconds, tmp, wrk)
            if sample["seconds"]:
                rate = sample["requests"] / sample["seconds"] / len(generators)
                fastest[name] = max(fastest.get(name, 0.0), rate)
            server.check_alive()
            return sample

        sizes = protocol_verify(base, gens["lock"] + gens["device"])
        results = interleaved(list(endpoints), drive, wrk, "protocol: ")
        protocol_verify(base, gens["lock"] + gens["device"])  # still answering, still signed right
    out.update(results=results, sizes=sizes, wrk=wrk)
    return out
