"""`make bench`: API overhead of Keyhouse's enveloped, authenticated endpoints vs bare DRF views,
and the cost of keeping derived access current on a large property.

One run, one gunicorn (-w 2) on loopback, one fresh database: SQLite in a temporary directory,
or, with BENCH_DATABASE_URL=postgres://user:pass@host:port/db, a PostgreSQL database
`keyhouse_bench` on that server (dropped and created by the run, dropped again at the end;
the database named in the URL is only used to connect and is never touched):

1. migrate, then seed (tests/bench/seed.py): 60 API keys, counting SQL queries per list
   request in-process for 10 and 60 keys (the count must be flat); and a property with
   10,000 areas, counting the queries of a listAreas page of 50 with 10 and with 10,000
   areas (first page and a page deep in the list; they must be identical) and of getProperty;
2. start `gunicorn config.wsgi:application -w 2` with DJANGO_SETTINGS_MODULE=tests.bench.settings
   (the normal URLconf plus the bare views under /bench/; throttle rates raised so no 429
   skews the figures);
3. check every endpoint answers 200 with a full page, warm up, then drive each for a fixed
   time, in interleaved slices (ABBA: the order reverses every round) so outside load hits
   all alike, with `wrk` (installed with apt when missing and we are root) or, failing that,
   a Python thread + http.client load generator. Pairs, each against its bare DRF view:
   GET /api/v1/api-keys, listAreas (GET /api/v1/properties/{id}/areas), getProperty
   (GET /api/v1/properties/{id});
4. print requests/s, p50/p99 latency and the ratios enveloped/bare;
5. with gunicorn stopped, the access model (tests/bench/access.py, three fresh processes):
   seed a 10,000-user and a 1,000-user campus of the same shape in bulk, rebuild their derived
   access from empty (time, peak memory), then time membership changes on both (interleaved)
   and their SQL query counts, and a structural change; print one table of figures, targets
   and pass/fail;
6. the lock and device protocol (tests/bench/protocol.py, fresh processes, then a second
   gunicorn): the 10k-user campus (reused from step 5) with a phone for every user; every key
   map of its 1,000 locks built and signed, timed against one Ed25519 signature measured in the
   same process; bench locks and phones set up through the API, the signatures made by a sync
   that delivers a key map of at least 1,000 entries counted in-process; then a no-change
   syncLock and a no-change syncUserDevice under load, each against a bare DRF view, with a
   freshly signed request body per request (see `protocol_bench`);
7. the portal's rate limit (tests/bench/part_portal.py): a token bucket per property shared by
   `gunicorn -w 4` through Redis, under a paced 300 + 50 requests/s and a 200-request burst;
   bulk import and export (tests/bench/imports.py, fresh processes): a 10k-person users file with
   units, groups and memberships validated and applied (rows/s each), the same file again, the
   peak memory of 10k against 50k rows, a 100k-row export streamed against a 10k-row one; the
   Lockt sync (tests/bench/lockt.py): a first poll of 10k and 50k remote users, an unchanged poll;
8. rewrite this database's figures blocks of docs/PERFORMANCE.md between their markers.

This file is the entry point: options, the temporary directory and database, the parts in
order, the exit code. The rest of tests/bench:
- common.py: the load-run knobs below, BenchError, log, run_checked (a step in a fresh process);
- server.py: gunicorn (`gunicorn_command`: its command line), started, health-checked, stopped;
- load.py: the load generator (`run_load`: the requests to send, wrk or Python) and the
  interleaved ABBA slices (`interleaved`);
- part_http.py, part_access.py, part_protocol.py, part_portal.py, part_imports.py,
  part_lockt.py: steps 1–3, 5, 6 and 7 (`http_bench`, `access_bench`, `protocol_bench`,
  `portal_bench`, `imports_bench`, `lockt_bench`), driving seed.py, access.py, protocol.py,
  portal.py, imports.py and lockt.py, which run
  inside Django in fresh processes (baseline.py, urls.py and settings.py: the bare views);
- report.py: steps 4 and 7 and the tables of 5 and 6: figures, ratios, targets, pass/fail.

The run fails (exit 1) when a query count that must be flat is not, or an access-model or
protocol target is missed; the figures are printed and written first.

Knobs (environment): BENCH_DATABASE_URL (PostgreSQL server to bench on; default: SQLite),
BENCH_DURATION (s per endpoint, default 8), BENCH_WARMUP (s, default 2),
BENCH_ROUNDS (interleaved slices, default 4), BENCH_CONNECTIONS (default 4),
BENCH_TOOL (wrk | python; default: wrk when available),
BENCH_DB_NAME (the PostgreSQL database the run creates and drops, default keyhouse_bench; give
concurrent runs on one server different names), BENCH_WRITE_DOC (default true),
BENCH_KEEP_TMP (keep the temp dir and database, default false),
BENCH_PARTS (http, access, protocol, keymaps, portal, imports, lockt and/or parqex, comma-separated;
default all: steps 1–4 are `http`, step 5 `access`, step 6 `protocol` then `keymaps`, step 7
`portal`, `imports`, `lockt` and `parqex`; `scale`, the 100k-person property of part_scale.py,
only when named: BENCH_SCALE, BENCH_SCALE_WIDE_STAFF), BENCH_KEYMAP_REVOKE_RUNS (removals timed through a
live worker, default 30), BENCH_ACCESS_RUNS (membership changes timed per campus and
direction, default 15), BENCH_REDIS_URL (the portal part's Redis; default: a private
redis-server, or the part is skipped), BENCH_PORTAL_SECONDS (default 10), BENCH_IMPORT_ROWS /
BENCH_IMPORT_BIG / BENCH_EXPORT_ROWS (the import part's sizes, default 10,000 / 50,000 /
100,000), BENCH_LOCKT_USERS (the Lockt part's sizes, default 10000,50000; printed, not yet
written to the doc), BENCH_PARQEX_CONTROLLERS (the ParqEx poll's controllers × 3 doors,
default 1,000).
"""

import base64
import datetime as dt
import os
import secrets
import shutil
import string
import sys
import tempfile
import time
import urllib.parse
from pathlib import Path

_PROJECT = str(Path(__file__).resolve().parents[2])
if _PROJECT not in sys.path:  # `python tests/bench/run.py` (make bench) puts only tests/bench on the path
    sys.path.insert(0, _PROJECT)

from tests.bench import report  # noqa: E402
from tests.bench.common import HOST, ROOT, BenchError, log, run_checked  # noqa: E402
from tests.bench.load import tool_version  # noqa: E402
from tests.bench.part_access import access_bench  # noqa: E402
from tests.bench.part_http import http_bench  # noqa: E402
from tests.bench.part_imports import imports_bench  # noqa: E402
from tests.bench.part_keymaps import keymaps_bench  # noqa: E402
from tests.bench.part_lockt import lockt_bench, lockt_block, lockt_print  # noqa: E402
from tests.bench.part_parqex import parqex_bench  # noqa: E402
from tests.bench.part_portal import portal_bench  # noqa: E402
from tests.bench.part_protocol import protocol_bench  # noqa: E402
from tests.bench.part_scale import scale_bench, scale_block, scale_print  # noqa: E402

SETTINGS_MODULE = "tests.bench.settings"
BENCH_DB_NAME = os.environ.get("BENCH_DB_NAME", "").strip() or "keyhouse_bench"
BENCH_DATABASE_URL = os.environ.get("BENCH_DATABASE_URL", "").strip()

WRITE_DOC = os.environ.get("BENCH_WRITE_DOC", "true").strip().lower() not in ("0", "false", "no", "off")
KEEP_TMP = os.environ.get("BENCH_KEEP_TMP", "").strip().lower() in ("1", "true", "yes", "on")
ALL_PARTS = ("http", "access", "protocol", "keymaps", "portal", "imports", "lockt", "parqex")
OPT_IN_PARTS = ("scale",)  # only when named: the 100k-person property takes well over 10 minutes
PARTS = {part.strip() for part in os.environ.get("BENCH_PARTS", ",".join(ALL_PARTS)).split(",") if part.strip()}
if not PARTS or PARTS - set(ALL_PARTS + OPT_IN_PARTS):
    sys.exit(
        f"BENCH_PARTS must name some of {', '.join(ALL_PARTS + OPT_IN_PARTS)} (comma-separated), "
        f"not {os.environ['BENCH_PARTS']!r}"
    )


# --- database -------------------------------------------------------------------------------------
POSTGRES_SCHEMES = ("postgres", "postgresql", "pgsql")


def _postgres_admin_url(server_url: str) -> tuple[str, str]:
    """(URL to connect to for DROP/CREATE DATABASE, URL of the bench database) on that server."""
    parts = urllib.parse.urlsplit(server_url)
    if parts.scheme not in POSTGRES_SCHEMES:
        raise BenchError(f"BENCH_DATABASE_URL must be a PostgreSQL URL ({'/'.join(POSTGRES_SCHEMES)}://…)")
    named = parts.path.strip("/")
    # Connect to the named database (or `postgres` when none, or when it is the bench one).
    admin = parts._replace(path="/" + (named if named and named != BENCH_DB_NAME else "postgres"))
    bench = parts._replace(path="/" + BENCH_DB_NAME)
    return urllib.parse.urlunsplit(admin), urllib.parse.urlunsplit(bench)


def _postgres_execute(admin_url: str, *statements: str) -> None:
    try:
        import psycopg
    except ImportError:
        raise BenchError("BENCH_DATABASE_URL needs psycopg (in requirements.txt)") from None
    try:
        with psycopg.connect(admin_url, autocommit=True, connect_timeout=10) as conn:
            for statement in statements:
                conn.execute(statement)
    except psycopg.Error as exc:
        raise BenchError(f"PostgreSQL: {exc}".strip()) from None


def postgres_create(server_url: str) -> str:
    """Drop and create the dedicated bench database; returns its URL. Never touches any other."""
    admin_url, bench_url = _postgres_admin_url(server_url)
    _postgres_execute(
        admin_url, f'DROP DATABASE IF EXISTS "{BENCH_DB_NAME}" WITH (FORCE)', f'CREATE DATABASE "{BENCH_DB_NAME}"'
    )
    return bench_url


def postgres_drop(server_url: str) -> None:
    admin_url, _ = _postgres_admin_url(server_url)
    try:
        _postgres_execute(admin_url, f'DROP DATABASE IF EXISTS "{BENCH_DB_NAME}" WITH (FORCE)')
    except BenchError as exc:
        log(f"could not drop {BENCH_DB_NAME}: {exc}")


def database_key(database: str) -> str:
    """`postgresql` or `sqlite`: which figures blocks of the doc this run rewrites."""
    return "postgresql" if database.lower().startswith("postgres") else "sqlite"


def database_name(env: dict) -> str:
    """`SQLite 3.40.1` / `PostgreSQL 15.18`: the bench database's engine and version."""
    code = "import django; django.setup(); from tests.bench.seed import _database; print(_database())"
    return run_checked([sys.executable, "-c", code], env, timeout=60, what="database version").strip().splitlines()[-1]


def database_setup(database: str) -> str:
    if database_key(database) == "postgresql":
        parts = urllib.parse.urlsplit(BENCH_DATABASE_URL)
        conn_max_age = os.environ.get("DB_CONN_MAX_AGE", "60")
        return (
            f"fresh {database} database `{BENCH_DB_NAME}` on {parts.hostname}:{parts.port or 5432} "
            f"(dropped and created by the run), persistent connections (CONN_MAX_AGE {conn_max_age})"
        )
    return f"fresh {database} database (a file in a temporary directory)"


# --- the environment of its processes ------------------------------------------------------------
def bench_env(tmp: Path, database_url: str) -> dict:
    env = {k: v for k, v in os.environ.items() if k not in ("REDIS_URL", "DATABASE_URL", "DJANGO_SETTINGS_MODULE")}
    alphabet = string.ascii_letters + string.digits
    env.update(
        DJANGO_SETTINGS_MODULE=SETTINGS_MODULE,
        DATABASE_URL=database_url,
        KEYHOUSE_VAR_DIR=str(tmp / "var"),
        DEBUG="false",
        SECRET_KEY=secrets.token_urlsafe(50),
        KEYHOUSE_SECRET_PEPPERS="1:" + "".join(secrets.choice(alphabet) for _ in range(32)),
        KEYHOUSE_FIRMWARE_SIGNING_KEY=base64.b64encode(secrets.token_bytes(32)).decode(),
        KEYHOUSE_KEK_RING="1:" + base64.b64encode(secrets.token_bytes(32)).decode(),
        ALLOWED_HOSTS=HOST,
        SECURE_SSL_REDIRECT="false",  # plain HTTP on loopback
        LOG_LEVEL="WARNING",
        PYTHONPATH=os.pathsep.join(filter(None, [str(ROOT), env.get("PYTHONPATH", "")])),
        PYTHONDONTWRITEBYTECODE="1",
    )
    return env


# --- main -----------------------------------------------------------------------------------------
def main() -> int:
    began = time.monotonic()
    machine_info = report.machine()  # load average before we add any
    tmp = Path(tempfile.mkdtemp(prefix="keyhouse-bench-"))
    postgres = bool(BENCH_DATABASE_URL)
    created_database = False
    http = access = protocol = portal = imports = lockt = parqex = keymaps = scale = None
    try:
        if postgres:
            database_url = postgres_create(BENCH_DATABASE_URL)
            created_database = True
            log(f"temp dir {tmp}; PostgreSQL database {BENCH_DB_NAME} dropped and created; migrating")
        else:
            database_url = f"sqlite:///{tmp / 'bench.sqlite3'}"
            log(f"temp dir {tmp}; migrating a fresh SQLite database")
        env = bench_env(tmp, database_url)
        run_checked([sys.executable, "manage.py", "migrate", "--noinput", "-v0"], env, timeout=180, what="migrate")
        if "http" in PARTS:
            http = http_bench(env, tmp)
        if "access" in PARTS:  # after the load run: gunicorn is stopped, the CPUs are the bench's alone
            access = access_bench(env)
        if "protocol" in PARTS:  # reuses the access part's 10k campus when it ran
            protocol = protocol_bench(env, tmp)
        if "keymaps" in PARTS:  # reuses the protocol part's campus, phones and build-all when it ran
            keymaps = keymaps_bench(env, tmp, protocol)
        if "portal" in PARTS:
            portal = portal_bench(env, tmp)
        if "lockt" in PARTS:  # fresh processes, no gunicorn: the emulator is served by each
            lockt = lockt_bench(env)
        if "imports" in PARTS:  # a property of its own: independent of the parts above
            imports = imports_bench(env)
        if "parqex" in PARTS:
            parqex = parqex_bench(env)
        if "scale" in PARTS:  # last: its 100k property is the biggest thing in the database
            scale = scale_bench(env)
        database = database_name(env)
        versions_text = report.versions(env)
    except BenchError as exc:
        print(f"\n[bench] FAILED: {exc}", file=sys.stderr)
        return 1
    finally:
        if KEEP_TMP:
            log(f"kept {tmp}" + (f" and database {BENCH_DB_NAME}" if created_database else ""))
        else:
            shutil.rmtree(tmp, ignore_errors=True)
            if created_database:
                postgres_drop(BENCH_DATABASE_URL)

    meta = {
        "date": dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "machine": machine_info,
        "versions": versions_text,
        "tool": tool_version(http["wrk"]) if http else (tool_version(protocol["wrk"]) if protocol else ""),
        "sizes": http["sizes"] if http else {},
        "database": database,
        "db_key": database_key(database),
        "database_setup": database_setup(database),
        "command": "BENCH_DATABASE_URL=postgres://… make bench" if postgres else "make bench",
        "elapsed": time.monotonic() - began,
    }
    failures = report.print_parts(meta, http, access, protocol, portal, imports, parqex, keymaps)
    if lockt:
        failures += lockt_print(lockt, meta["database"])
    if scale:
        failures += scale_print(scale, meta["database"])
    if WRITE_DOC:
        report.write_docs(meta, http, access, protocol, portal, imports, parqex, keymaps)
        if lockt:
            report.write_doc("lockt", meta["db_key"], lockt_block(lockt, meta))
        if scale:
            report.write_doc("scale", meta["db_key"], scale_block(scale, meta))
        print(f"wrote {report.DOC.relative_to(ROOT)} ({meta['database']} blocks: {', '.join(sorted(PARTS))})")
    print(f"bench took {time.monotonic() - began:.0f} s")
    for failure in failures:
        print(f"[bench] FAILED: {failure}", file=sys.stderr)
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
