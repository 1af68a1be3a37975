"""`make soak`: Keyhouse on several hosts under a bounded load, with one web host and one worker
host killed and restarted mid-run (issue 18, "Soak on several hosts").

Hosts are Linux network namespaces on this machine, made and removed by this script, joined by
a bridge (`kh-soak0`, 10.77.0.1/24) that carries nothing but their traffic:

    kh-db    10.77.0.2   PostgreSQL (a private cluster: initdb in a temporary directory) and Redis
    kh-web1  10.77.0.11  gunicorn -w 2 (config/gunicorn.py, as `make serve-prod`)
    kh-web2  10.77.0.12  gunicorn -w 2
    kh-wrk1  10.77.0.21  celery worker -c 1
    kh-wrk2  10.77.0.22  celery worker -c 1, and celery beat (the sweeps)

The load generator runs here (10.77.0.1) and spreads requests over both web hosts, as a load
balancer would: a host that refuses connections is skipped for two seconds (the request goes to
the other host; a refused connection never reached Keyhouse). For SOAK_SECONDS (600):
- API clients at SOAK_RATE requests/s (20): 70 % reads (listAreas, getProperty, listEvents),
  30 % writes (a visitor added to or removed from a unit's group: derived access, key maps);
- SOAK_LOCKS locks (4), each installed in a unit by the load generator over the API (the
  reference lock of tests/locks), syncing every 2 s: they receive each new signed key map;
- SOAK_PHONES phones (4), residents' phones (tests/devices/phone.py), syncing every 3 s.
At 35 % of the run web1 is SIGKILLed (the whole host: master and workers) and started again
10 s later; at 55 % the same for wrk1.

Report: requests, errors outside and inside the kill windows (target: 0 outside; inside, only
the killed host's requests in flight), p50/p99 per kind, memory (RSS) of every process per host
from the end of the warm-up to the end (target: flat, growth ≤ 20 % or ≤ 16 MiB), events lost
or failing (0), derived access equal to a rebuild, every key map current and applied by its
lock. The figures are written to docs/RELIABILITY.md between `soak` markers.

Needs root, iproute2 (`ip netns`), PostgreSQL 15's server binaries and redis-server (Debian:
`apt-get install postgresql redis-server`). Knobs: SOAK_SECONDS, SOAK_RATE, SOAK_LOCKS,
SOAK_PHONES, SOAK_WRITE_DOC (default true).
"""

import contextlib
import datetime as dt
import http.client
import json
import os
import random
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

_PROJECT = str(Path(__file__).resolve().parents[2])
if _PROJECT not in sys.path:  # `python tests/soak/run.py` puts only tests/soak on the path
    sys.path.insert(0, _PROJECT)

from tests.bench.run import bench_env  # noqa: E402
from tests.devices.phone import Phone  # noqa: E402
from tests.locks.reference_lock import ReferenceLock  # noqa: E402

ROOT = Path(_PROJECT)
DOC = ROOT / "docs" / "RELIABILITY.md"
MARKS = ("<!-- soak:start -->", "<!-- soak:end -->")

SECONDS = max(60, int(os.environ.get("SOAK_SECONDS", "600")))
RATE = max(1, int(os.environ.get("SOAK_RATE", "20")))
LOCKS = max(1, int(os.environ.get("SOAK_LOCKS", "4")))
PHONES = max(1, int(os.environ.get("SOAK_PHONES", "4")))
WRITE_DOC = os.environ.get("SOAK_WRITE_DOC", "true").lower() not in ("0", "false", "no", "off")
WARMUP = 30.0  # seconds before memory is first sampled
DOWN_FOR = 10.0  # a killed host is started again after this long
SETTLE = 5.0  # after a restarted host answers, its kill window stays open this long
KILLS = (("web1", 0.35), ("wrk1", 0.55))

BRIDGE, SUBNET, GATEWAY = "kh-soak0", "10.77.0", "10.77.0.1"
HOSTS = {"db": 2, "web1": 11, "web2": 12, "wrk1": 21, "wrk2": 22}
PG_BIN = Path("/usr/lib/postgresql/15/bin")
HTTP_PORT = 8000


def log(message: str) -> None:
    print(f"[soak] {message}", flush=True)


def ip_of(host: str) -> str:
    return f"{SUBNET}.{HOSTS[host]}"


def sh(*args: str, check: bool = True) -> subprocess.CompletedProcess:
    return subprocess.run(args, capture_output=True, text=True, check=check)


# --- the network --------------------------------------------------------------------------------
def network_down() -> None:
    for host in HOSTS:
        sh("ip", "netns", "del", f"kh-{host}", check=False)
    sh("ip", "link", "del", BRIDGE, check=False)


def network_up() -> None:
    network_down()  # what a crashed run left
    sh("ip", "link", "add", BRIDGE, "type", "bridge")
    sh("ip", "addr", "add", f"{GATEWAY}/24", "dev", BRIDGE)
    sh("ip", "link", "set", BRIDGE, "up")
    for host, last in HOSTS.items():
        ns, outside = f"kh-{host}", f"khv-{host}"
        sh("ip", "netns", "add", ns)
        sh("ip", "link", "add", outside, "type", "veth", "peer", "name", "eth0", "netns", ns)
        sh("ip", "link", "set", outside, "master", BRIDGE)
        sh("ip", "link", "set", outside, "up")
        sh("ip", "netns", "exec", ns, "ip", "link", "set", "lo", "up")
        sh("ip", "netns", "exec", ns, "ip", "addr", "add", f"{SUBNET}.{last}/24", "dev", "eth0")
        sh("ip", "netns", "exec", ns, "ip", "link", "set", "eth0", "up")


# --- processes on hosts ------------------------------------------------------------------------
@dataclass
class Proc:
    host: str
    name: str
    popen: subprocess.Popen
    log_path: Path
    started: float = field(default_factory=time.monotonic)

    def alive(self) -> bool:
        return self.popen.poll() is None

    def kill(self) -> None:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.popen.pid, signal.SIGKILL)
        self.popen.wait(timeout=15)

    def stop(self) -> None:
        if not self.alive():
            return
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.popen.pid, signal.SIGTERM)
        try:
            self.popen.wait(timeout=15)
        except subprocess.TimeoutExpired:
            self.kill()

    def rss(self) -> dict[int, int]:
        """RSS (KiB) of every process of the group."""
        out = {}
        for entry in Path("/proc").iterdir():
            if not entry.name.isdigit():
                continue
            try:
                if os.getpgid(int(entry.name)) != self.popen.pid:
                    continue
                status = (entry / "status").read_text()
            except (OSError, ProcessLookupError):
                continue
            for line in status.splitlines():
                if line.startswith("VmRSS:"):
                    out[int(entry.name)] = int(line.split()[1])
        return out


def on_host(host: str, name: str, argv: list[str], env: dict, tmp: Path, user: str | None = None) -> Proc:
    log_path = tmp / f"{host}-{name}.log"
    prefix = ["ip", "netns", "exec", f"kh-{host}"] + (["runuser", "-u", user, "--"] if user else [])
    with open(log_path, "ab") as out:
        popen = subprocess.Popen(
            prefix + argv, cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True
        )
    return Proc(host, name, popen, log_path)


def tail(path: Path, lines: int = 30) -> str:
    try:
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return ""


def wait_until(what: str, check, timeout: float, proc: Proc | None = None) -> None:
    deadline = time.monotonic() + timeout
    while True:
        try:
            if check():
                return
        except Exception:  # noqa: BLE001, S110 - not up yet, whatever the client says
            pass
        if proc is not None and not proc.alive():
            raise SystemExit(f"{what}: the process exited:\n{tail(proc.log_path)}")
        if time.monotonic() > deadline:
            raise SystemExit(f"{what}: not ready after {timeout:.0f} s" + (f":\n{tail(proc.log_path)}" if proc else ""))
        time.sleep(0.3)


def database_start(tmp: Path, procs: dict) -> None:
    data = tmp / "pg"
    data.mkdir()
    shutil.chown(tmp, "postgres")
    shutil.chown(data, "postgres")
    sh("runuser", "-u", "postgres", "--", str(PG_BIN / "initdb"), "-D", str(data), "-A", "trust", "-U", "postgres")
    with open(data / "pg_hba.conf", "a") as hba:
        hba.write(f"host all all {SUBNET}.0/24 trust\n")
    db = ip_of("db")
    postgres = on_host(
        "db",
        "postgres",
        [str(PG_BIN / "postgres"), "-D", str(data), "-c", f"listen_addresses={db}", "-c", "port=5432",
         "-c", f"unix_socket_directories={data}", "-c", "max_connections=200"],
        dict(os.environ),
        tmp,
        user="postgres",
    )  # fmt: skip
    procs["db-postgres"] = postgres
    wait_until(
        "PostgreSQL",
        lambda: sh("ip", "netns", "exec", "kh-db", "runuser", "-u", "postgres", "--", str(PG_BIN / "pg_isready"),
                   "-h", db, "-p", "5432").returncode == 0,
        60,
        postgres,
    )  # fmt: skip
    psql = ["runuser", "-u", "postgres", "--", "psql", "-h", db, "-U", "postgres", "-v", "ON_ERROR_STOP=1", "-c"]
    sh("ip", "netns", "exec", "kh-db", *psql, "CREATE DATABASE keyhouse_soak")
    redis = on_host(
        "db", "redis",
        ["redis-server", "--bind", db, "--port", "6379", "--save", "", "--appendonly", "no",
         "--protected-mode", "no"],  # the bridge is private to this run
        dict(os.environ), tmp,
    )  # fmt: skip
    procs["db-redis"] = redis
    wait_until("Redis", lambda: sh("redis-cli", "-h", db, "ping").stdout.strip() == "PONG", 30, redis)


def keyhouse_env(tmp: Path) -> dict:
    env = bench_env(tmp, f"postgres://postgres@{ip_of('db')}:5432/keyhouse_soak")
    env.update(
        REDIS_URL=f"redis://{ip_of('db')}:6379/0",
        ALLOWED_HOSTS=",".join(ip_of(h) for h in ("web1", "web2")),
        LOG_LEVEL="WARNING",
        DB_CONN_MAX_AGE="60",
    )
    return env


def web_start(host: str, env: dict, tmp: Path) -> Proc:
    exe = Path(sys.executable).parent / "gunicorn"
    proc = on_host(
        host, "gunicorn",
        [str(exe), "-c", "config/gunicorn.py", "config.wsgi:application", "-w", "2", "-b", f"{ip_of(host)}:{HTTP_PORT}",
         "--log-level", "warning", "--timeout", "30"],
        env, tmp,
    )  # fmt: skip
    wait_until(f"gunicorn on {host}", lambda: _get_status(ip_of(host), "/healthz") == 200, 60, proc)
    return proc


def worker_start(host: str, env: dict, tmp: Path) -> Proc:
    return on_host(
        host, "celery",
        [sys.executable, "-m", "celery", "-A", "config", "worker", "-c", "1", "-n", f"{host}@soak",
         "--loglevel=WARNING", "--without-gossip", "--without-mingle"],
        env, tmp,
    )  # fmt: skip


def beat_start(env: dict, tmp: Path) -> Proc:
    return on_host(
        "wrk2", "beat",
        [sys.executable, "-m", "celery", "-A", "config", "beat", "--loglevel=WARNING",
         f"--schedule={tmp / 'celerybeat-schedule'}"],
        {**env, "KEYHOUSE_EVENTS_SWEEP_SECONDS": "15"},
        tmp,
    )  # fmt: skip


def step(name: str, env: dict) -> dict:
    done = subprocess.run(
        [sys.executable, "-m", "tests.soak.steps", name], cwd=ROOT, env=env, capture_output=True, text=True,
        timeout=600, check=False,
    )  # fmt: skip
    if done.returncode != 0:
        raise SystemExit(f"step {name} failed:\n{done.stdout[-2000:]}\n{done.stderr[-3000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


# --- HTTP ----------------------------------------------------------------------------------------
def _get_status(address: str, path: str) -> int:
    conn = http.client.HTTPConnection(address, HTTP_PORT, timeout=5)
    try:
        conn.request("GET", path)
        return conn.getresponse().status
    finally:
        conn.close()


class Balancer:
    """Round-robin over the web hosts; a host refusing connections is skipped for 2 s."""

    def __init__(self, hosts: list[str]):
        self.hosts, self.down_until, self.turn, self.lock = hosts, dict.fromkeys(hosts, 0.0), 0, threading.Lock()

    def pick(self) -> str:
        with self.lock:
            now = time.monotonic()
            for _ in self.hosts:
                self.turn = (self.turn + 1) % len(self.hosts)
                host = self.hosts[self.turn]
                if self.down_until[host] <= now:
                    return host
            return self.hosts[self.turn]

    def mark_down(self, host: str) -> None:
        with self.lock:
            self.down_until[host] = time.monotonic() + 2.0


@dataclass
class Result:
    kind: str
    host: str
    at: float
    ms: float
    status: int  # 0: the connection failed after it was made (reset, closed, timed out)
    detail: str = ""


class Load:
    def __init__(self, balancer: Balancer, seed: dict):
        self.balancer, self.seed = balancer, seed
        self.results: list[Result] = []
        self.results_lock = threading.Lock()
        self.stop = threading.Event()
        self.api_auth = f"Bearer {seed['secret']}"

    def request(self, kind: str, method: str, path: str, auth: str, body: dict | None = None) -> tuple[int, dict]:
        """One request through the balancer; connection refused → the other host (never reached us)."""
        for _ in range(4):
            host = self.balancer.pick()
            started = time.monotonic()
            conn = http.client.HTTPConnection(ip_of(host), HTTP_PORT, timeout=30)
            try:
                conn.connect()
            except ConnectionRefusedError:
                conn.close()
                self.balancer.mark_down(host)
                continue
            try:
                payload = json.dumps(body, separators=(",", ":")) if body is not None else None
                headers = {"Authorization": auth, "Content-Type": "application/json"}
                conn.request(method, path, body=payload, headers=headers)
                response = conn.getresponse()
                raw = response.read()
                status = response.status
            except (OSError, http.client.HTTPException) as exc:
                self.record(Result(kind, host, started, (time.monotonic() - started) * 1000, 0, type(exc).__name__))
                return 0, {}
            finally:
                conn.close()
            self.record(Result(kind, host, started, (time.monotonic() - started) * 1000, status))
            try:
                return status, json.loads(raw)
            except ValueError:
                return status, {}
        self.record(Result(kind, "none", time.monotonic(), 0.0, 0, "no web host accepts connections"))
        return 0, {}

    def record(self, result: Result) -> None:
        with self.results_lock:
            self.results.append(result)

    # -- set-up over the API, as installers and apps do it ---------------------------------------
    def provision(self) -> tuple[list, list]:
        locks = []
        for n in range(LOCKS):
            lock = ReferenceLock()
            unit = self.seed["units"][n % len(self.seed["units"])]
            body = lock.provision_body(f"Unit door {n + 1}", propertyId=self.seed["propertyId"], areaId=unit["areaId"])
            status, answer = self.request("setup", "POST", "/api/v1/locks", self.api_auth, body)
            if status != 200:
                raise SystemExit(f"provisionLock answered {status}: {answer}")
            lock.apply_command(answer)
            locks.append(lock)
        phones = []
        for resident in self.seed["residents"][:PHONES]:
            status, answer = self.request(
                "setup", "POST", "/api/v1/auth/token", "",
                {"email": resident["email"], "password": self.seed["password"]},
            )  # fmt: skip
            if status != 200:
                raise SystemExit(f"createAuthToken answered {status}: {answer}")
            token = f"Bearer {answer['data']['token']}"
            phone = Phone.generate()
            status, answer = self.request(
                "setup", "POST", f"/api/v1/users/{resident['userId']}/devices", token, phone.provision_body()
            )
            if status != 200:
                raise SystemExit(f"provisionUserDevice answered {status}: {answer}")
            phone.user_id, phone.user_device_id = resident["userId"], answer["data"]["userDeviceId"]
            phones.append((phone, token))
        return locks, phones

    # -- the load ---------------------------------------------------------------------------------
    def api_client(self, rng: random.Random, rate: float, visitors: list[str]) -> None:
        """Poisson arrivals at `rate`; writes move this client's own visitors in and out of units'
        groups (each write a real change: a client knows the memberships it made)."""
        prop = self.seed["propertyId"]
        member: set[tuple[str, str]] = set()
        uncertain: set[tuple[str, str]] = set()  # in flight on a killed host: done or not, unknown
        next_at = time.monotonic()
        while not self.stop.is_set():
            next_at += rng.expovariate(rate)
            time.sleep(max(0.0, next_at - time.monotonic()))
            roll = rng.random()
            if roll < 0.3:
                pair = (rng.choice(self.seed["units"])["groupId"], rng.choice(visitors))
                if pair in uncertain:
                    continue
                method = "DELETE" if pair in member else "POST"
                status, _ = self.request(
                    "write", method, f"/api/v1/properties/{prop}/groups/{pair[0]}/users/{pair[1]}", self.api_auth
                )
                if status == 200:
                    member.symmetric_difference_update({pair})
                elif status == 0:
                    uncertain.add(pair)
            elif roll < 0.55:
                self.request("read", "GET", f"/api/v1/properties/{prop}/areas?pageSize=50", self.api_auth)
            elif roll < 0.85:
                self.request("read", "GET", f"/api/v1/properties/{prop}", self.api_auth)
            else:
                self.request("read", "GET", f"/api/v1/events?propertyId={prop}&pageSize=20", self.api_auth)

    def lock_loop(self, lock: ReferenceLock, every: float) -> None:
        path, auth = f"/api/v1/locks/{lock.lock_id}/sync", f"Bearer {lock.api_secret}"
        while not self.stop.wait(every):
            status, answer = self.request("lock sync", "PUT", path, auth, lock.sync_body())
            if status == 200:
                lock.receive_sync(answer)  # checks the signature; applies a new key map

    def phone_loop(self, phone: Phone, token: str, every: float) -> None:
        path = f"/api/v1/users/{phone.user_id}/devices/{phone.user_device_id}/sync"
        while not self.stop.wait(every):
            status, answer = self.request("phone sync", "PUT", path, token, phone.sync_body())
            if status == 200:
                phone.receive(answer)


# --- the run ----------------------------------------------------------------------------------
def percentile(values: list[float], p: float) -> float:
    if not values:
        return 0.0
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(len(ordered) * p / 100))]


def main() -> int:  # noqa: C901, PLR0915 - one script, read top to bottom
    if (
        os.geteuid() != 0
        or not shutil.which("ip")
        or not (PG_BIN / "postgres").exists()
        or not shutil.which("redis-server")
    ):
        sys.exit(
            "make soak needs root, iproute2, PostgreSQL 15 server binaries and redis-server (see tests/soak/run.py)"
        )
    began_at = dt.datetime.now(dt.UTC)
    tmp = Path(tempfile.mkdtemp(prefix="keyhouse-soak-"))
    procs: dict[str, Proc] = {}
    load = None
    try:
        log(f"network: namespaces {', '.join('kh-' + h for h in HOSTS)} on bridge {BRIDGE}")
        network_up()
        database_start(tmp, procs)
        env = keyhouse_env(tmp)
        log("migrate and seed")
        subprocess.run([sys.executable, "manage.py", "migrate", "--noinput", "-v0"], cwd=ROOT, env=env, check=True)
        seed = step("seed", env)
        for host in ("web1", "web2"):
            procs[host] = web_start(host, env, tmp)
        for host in ("wrk1", "wrk2"):
            procs[host] = worker_start(host, env, tmp)
        procs["beat"] = beat_start(env, tmp)
        load = Load(Balancer(["web1", "web2"]), seed)
        locks, phones = load.provision()
        log(f"load: {RATE} API requests/s, {LOCKS} locks every 2 s, {PHONES} phones every 3 s, for {SECONDS} s")
        churn = seed["churn"]
        threads = [
            threading.Thread(target=load.api_client, args=(random.Random(i), RATE / 4, churn[i::4])) for i in range(4)
        ]
        threads += [threading.Thread(target=load.lock_loop, args=(lock, 2.0)) for lock in locks]
        threads += [threading.Thread(target=load.phone_loop, args=(phone, token, 3.0)) for phone, token in phones]
        started = time.monotonic()
        for thread in threads:
            thread.start()
        # Memory: each host's processes sampled WARMUP s after they start (a restarted host after
        # its restart), and again at the end.
        baseline_due = dict.fromkeys(procs, started + WARMUP)
        memory_first: dict[str, int] = {}
        windows: list[tuple[str, float, float]] = []
        pending = sorted((started + SECONDS * share, host) for host, share in KILLS)
        while time.monotonic() - started < SECONDS:
            now = time.monotonic()
            for name, due in list(baseline_due.items()):
                if now >= due:
                    memory_first[name] = sum(procs[name].rss().values())
                    del baseline_due[name]
            if pending and now >= pending[0][0]:
                _, host = pending.pop(0)
                log(f"kill -9 host {host} at {now - started:.0f} s")
                killed_at = time.monotonic()
                procs[host].kill()
                time.sleep(DOWN_FOR)
                procs[host] = web_start(host, env, tmp) if host.startswith("web") else worker_start(host, env, tmp)
                windows.append((host, killed_at, time.monotonic() + SETTLE))
                memory_first.pop(host, None)
                baseline_due[host] = time.monotonic() + WARMUP
                log(f"host {host} back after {time.monotonic() - killed_at:.0f} s")
            for name, proc in procs.items():
                if not proc.alive():
                    raise SystemExit(f"{name} died unasked:\n{tail(proc.log_path)}")
            time.sleep(0.5)
        load.stop.set()
        for thread in threads:
            thread.join(timeout=60)
        memory_last = {name: sum(p.rss().values()) for name, p in procs.items()}
        log("draining: waiting for every event to be processed (the sweep runs every 15 s)")
        deadline = time.monotonic() + 180
        while True:
            checked = step("check", env)
            if checked["unprocessed"] == 0 or time.monotonic() > deadline:
                break
            time.sleep(5)
        # Every lock syncs twice more: it fetches its newest map, then acknowledges it.
        for lock in locks:
            for _ in range(2):
                status, answer = load.request("final", "PUT", f"/api/v1/locks/{lock.lock_id}/sync",
                                              f"Bearer {lock.api_secret}", lock.sync_body())  # fmt: skip
                if status == 200:
                    lock.receive_sync(answer)
        checked = step("check", env)
        held = {lock.lock_id: (lock.key_map or {}).get("keyMapVersion", 0) for lock in locks}
        report = summarize(load.results, windows, started, memory_first, memory_last, checked, held)
        report["date"] = began_at.strftime("%Y-%m-%d %H:%M UTC")
        text = render(report)
        print(text)
        if WRITE_DOC:
            write_doc(text)
            log(f"wrote {DOC.relative_to(ROOT)}")
        return 0 if report["passed"] else 1
    finally:
        if load is not None:
            load.stop.set()
        for proc in procs.values():
            proc.stop()
        network_down()
        shutil.rmtree(tmp, ignore_errors=True)


def summarize(results, windows, started, memory_first, memory_last, checked, held) -> dict:
    def in_window(r: Result) -> str | None:
        """The killed host whose window the request overlaps (sent before the kill, in flight)."""
        return next((host for host, a, b in windows if r.at <= b and r.at + r.ms / 1000 >= a), None)

    measured = [r for r in results if r.kind not in ("setup", "final")]
    bad = [r for r in measured if r.status == 0 or r.status >= 500]
    outside = [r for r in bad if in_window(r) is None]
    inside = [r for r in bad if in_window(r) is not None]
    # In a kill window only the killed web host's requests in flight may fail; a worker host's
    # death must not fail any request at all.
    inside_not_allowed = [r for r in inside if r.host != in_window(r)]
    kinds = {}
    for kind in sorted({r.kind for r in measured}):
        rows = [r for r in measured if r.kind == kind]
        ok = [r.ms for r in rows if 200 <= r.status < 300]
        kinds[kind] = {
            "requests": len(rows),
            "ok": len(ok),
            "client_errors": sum(1 for r in rows if 400 <= r.status < 500),
            "p50": percentile(ok, 50),
            "p99": percentile(ok, 99),
        }
    memory = {name: (memory_first[name], last) for name, last in memory_last.items() if name in memory_first}
    grew = {
        name: (first, last) for name, (first, last) in memory.items() if last > first * 1.2 and last - first > 16 * 1024
    }
    versions_ok = all(
        checked["signed_versions"].get(lock_id) == version == checked["applied_versions"].get(lock_id)
        for lock_id, version in held.items()
    )
    client_errors = sum(k["client_errors"] for k in kinds.values())
    # A write cut off on a killed host may or may not have committed (the client never touches
    # that membership again): it may add one event.
    acked = kinds.get("write", {}).get("ok", 0)
    unknown = sum(1 for r in measured if r.kind == "write" and r.status == 0)
    checks = {
        "no errors outside the kill windows": not outside,
        "in the kill windows, only the killed web host's requests in flight failed": not inside_not_allowed,
        "no 4xx (a lost write would answer 404 or 409)": client_errors == 0,
        "memory flat (growth ≤ 20 % or ≤ 16 MiB per host)": not grew,
        "events lost or failing: 0 (one membership event per acknowledged write)": checked["unprocessed"] == 0
        and checked["failing"] == 0
        and acked <= checked["membership_events"] <= acked + unknown,
        "derived access equal to a rebuild": checked["rebuild_locks_changed"] == 0
        and checked["rebuild_users_changed"] == 0,
        "every key map signed and applied by its lock": checked["build_signed"] == 0 and versions_ok,
    }
    return {
        "seconds": SECONDS,
        "rate": RATE,
        "locks": LOCKS,
        "phones": PHONES,
        "requests": len(measured),
        "outside": len(outside),
        "inside": len(inside),
        "inside_detail": sorted({f"{r.host}: {r.detail or r.status}" for r in inside}),
        "outside_detail": sorted({f"{r.kind} on {r.host}: {r.detail or r.status}" for r in outside})[:10],
        "kinds": kinds,
        "windows": [(host, a - started, b - started) for host, a, b in windows],
        "memory": memory,
        "restarted": sorted(host for host, *_ in windows),
        "checked": checked,
        "held": held,
        "checks": checks,
        "passed": all(checks.values()),
    }


def render(report: dict) -> str:
    c = report["checked"]
    lines = [
        MARKS[0],
        f"Measured {report['date']} by `make soak` (tests/soak/run.py): {report['seconds']} s, "
        f"{report['rate']} API requests/s, {report['locks']} locks syncing every 2 s, {report['phones']} phones "
        "every 3 s, over 2 web hosts (gunicorn -w 2) and 2 worker hosts (celery -c 1) in network namespaces, "
        "one PostgreSQL 15 and one Redis on a fifth; all on one 2-CPU machine.",
        "",
        "Kill windows (host SIGKILLed → started again and answering + 5 s): "
        + "; ".join(f"{host} {a:.0f}–{b:.0f} s" for host, a, b in report["windows"])
        + ".",
        "",
        "| kind | requests | 2xx | 4xx | p50 | p99 |",
        "| --- | ---: | ---: | ---: | ---: | ---: |",
        *(
            f"| {kind} | {k['requests']:,} | {k['ok']:,} | {k['client_errors']} | {k['p50']:.1f} ms | "
            f"{k['p99']:.1f} ms |"
            for kind, k in report["kinds"].items()
        ),
        "",
        f"Failed requests: {report['outside']} outside the kill windows"
        + (f" ({', '.join(report['outside_detail'])})" if report["outside_detail"] else "")
        + f", {report['inside']} inside"
        + (f" ({', '.join(report['inside_detail'])})" if report["inside_detail"] else "")
        + ".",
        "",
        f"| host (all its processes) | RSS {WARMUP:.0f} s after start | RSS at the end |",
        "| --- | ---: | ---: |",
        *(
            f"| {name}{' (from its restart)' if name in report['restarted'] else ''} | {first / 1024:.0f} MiB | "
            f"{last / 1024:.0f} MiB |"
            for name, (first, last) in sorted(report["memory"].items())
        ),
        "",
        f"Events: {c['events']:,} appended ({c['membership_events']:,} membership events for "
        f"{report['kinds'].get('write', {}).get('ok', 0):,} acknowledged writes), {c['unprocessed']} unprocessed "
        f"and {c['failing']} failing at the end, "
        f"{c['retried']} needed more than one attempt. Derived access after a rebuild from scratch: "
        f"{c['rebuild_locks_changed']} locks and {c['rebuild_users_changed']} people changed. A key-map build "
        f"at the end signed {c['build_signed']} maps; each lock holds and has acknowledged its newest signed "
        "version.",
        "",
        "| check | result |",
        "| --- | --- |",
        *(f"| {what} | {'pass' if ok else '**FAIL**'} |" for what, ok in report["checks"].items()),
        MARKS[1],
    ]
    return "\n".join(lines)


def write_doc(block: str) -> None:
    text = DOC.read_text()
    if MARKS[0] in text and MARKS[1] in text:
        head, rest = text.split(MARKS[0], 1)
        text = head + block + rest.split(MARKS[1], 1)[1]
    else:
        text = text.rstrip("\n") + "\n\n## Soak on several hosts\n\n" + block + "\n"
    DOC.write_text(text)


if __name__ == "__main__":
    sys.exit(main())
