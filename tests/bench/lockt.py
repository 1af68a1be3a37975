"""Lockt sync benchmark (issue 12, "Benchmark"): a first poll of N remote users with levels,
doors and credentials, then a poll with no remote change, on the bench database.

Run by tests/bench/part_lockt.py, one fresh process per size, printing one JSON line (the
last line of its stdout):

    python -m tests.bench.lockt 10000

The Lockt emulator is served by Keyhouse itself on a loopback port (a WSGI server thread in
this process; its reads use their own database connection), so the poll speaks HTTP through
the real client exactly as against the cloud. The instance is generated in bulk
(`_control/generate`): N users, N/50 levels, N/20 doors (door k in level k mod levels, each on
an all-week schedule), one card credential per user, one level per user, and the level reads
carry `schedule_id` (switch `accesslevel_doors_schedule_id`). Events are processed in-process
as each commit enqueues them (eager Celery), so the first poll's time includes deriving every
person's access, as a worker would.

Figures: time of each poll, the growth of the peak resident set size over the first poll
(`ru_maxrss`), and the database writes (INSERT/UPDATE/DELETE statements of this process's
connection: the emulator's thread has its own) of each poll.
"""

import json
import os
import re
import resource
import socket
import sys
import threading
import time
from collections import Counter
from wsgiref.simple_server import WSGIRequestHandler, make_server

os.environ.setdefault("KEYHOUSE_EMULATORS", "true")
os.environ.setdefault("KEYHOUSE_INTEGRATION_ALLOW_HTTP", "true")
os.environ.setdefault("KEYHOUSE_INTEGRATION_READ_TIMEOUT", "300")

import django  # noqa: E402

django.setup()

import requests  # noqa: E402
from django.core.wsgi import get_wsgi_application  # noqa: E402
from django.db import connection, connections  # noqa: E402
from django.db.models import Value  # noqa: E402
from django.db.models.functions import Replace  # noqa: E402

from apps.access import services as access_services  # noqa: E402
from apps.core.actors import SYSTEM  # noqa: E402
from apps.integrations import services  # noqa: E402
from apps.integrations.lockt.emulator import models as emulator_models  # noqa: E402

WRITE = re.compile(r'^\s*(?:INSERT\s+INTO|UPDATE|DELETE\s+FROM)\s+"?(\w+)"?', re.IGNORECASE)
ADDRESS = {"line1": "1 Bench Road", "city": "Arlington", "state": "VA", "country": "US", "postalCode": "22201"}
# The scaffolding's own rows of a poll (claim, counts, finish: the poll time and its two events).
POLL_TIME_TABLES = {"integrations_syncrun", "integrations_integrationaccount", "events_event"}


class _Quiet(WSGIRequestHandler):
    def log_message(self, *args) -> None:
        pass


def _serve():
    application = get_wsgi_application()

    def app(environ, start_response):
        try:
            return application(environ, start_response)
        finally:
            connections.close_all()

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    server = make_server("127.0.0.1", port, app, handler_class=_Quiet)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server, f"http://127.0.0.1:{port}/_emulators/lockt"


class _Writes:
    """Write statements of this connection: all, and those outside the poll-time tables."""

    def __init__(self):
        self.count = 0
        self.sync = 0
        self.tables = Counter()

    def __call__(self, execute, sql, params, many, context):
        match = WRITE.match(sql)
        if match:
            self.count += 1
            self.sync += match.group(1) not in POLL_TIME_TABLES
            self.tables[match.group(1)] += 1
        return execute(sql, params, many, context)


def _poll(account_id) -> tuple[float, _Writes, object]:
    writes = _Writes()
    started = time.perf_counter()
    with connection.execute_wrapper(writes):
        run = services.integration_account_poll(account_id=account_id)
    return time.perf_counter() - started, writes, run


def main(users: int) -> dict:
    server, emulator = _serve()
    try:
        apiuser, apikey = f"bench-{users}-{os.getpid()}", "bench-key"
        headers = {"apiuser": apiuser, "apikey": apikey}
        body = {"apiuser": apiuser, "apikey": apikey, "seed": "empty"}
        requests.post(f"{emulator}/_control/instances", json=body, timeout=60).raise_for_status()
        requests.post(
            f"{emulator}/_control/switches", json={"accesslevel_doors_schedule_id": True}, headers=headers, timeout=60
        ).raise_for_status()
        levels, doors = max(1, users // 50), max(1, users // 20)
        started = time.perf_counter()
        requests.post(
            f"{emulator}/_control/generate",
            json={"users": users, "levels": levels, "doors": doors, "credentials": users},
            headers=headers,
            timeout=1800,
        ).raise_for_status()
        generated = time.perf_counter() - started
        # The sizes share the bench database and the generator numbers each instance's people
        # from the same start: without this, the 50k poll would find the 10k run's people by
        # email and link them one by one (a first link by email) instead of making new ones.
        remote_users = emulator_models.User.objects.filter(instance__apiuser=apiuser)
        remote_users.update(email=Replace("email", Value("@gen.example"), Value(f"@{users}.gen.example")))
        prop = access_services.property_create(display_name=f"Lockt bench {users}", address=ADDRESS, actor=SYSTEM)
        account = services.integration_account_create(
            prop=prop,
            kind="lockt",
            display_name="Lockt bench",
            base_url=f"{emulator}/api/v1",
            credentials={"apiuser": apiuser, "apikey": apikey},
            actor=SYSTEM,
        )
        rss_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        first_s, first_writes, first = _poll(account.pk)
        rss_after = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        second_s, second_writes, second = _poll(account.pk)
    finally:
        server.shutdown()
    for run in (first, second):
        if run is None or run.status != "succeeded":
            raise SystemExit(f"poll failed: {getattr(run, 'error', 'not run')}")
    return {
        "users": users,
        "levels": levels,
        "doors": doors,
        "generate_s": round(generated, 2),
        "first_s": round(first_s, 2),
        "first_per_user_ms": round(first_s * 1000 / users, 3),
        "first_writes": first_writes.count,
        "first_writes_by_table": dict(first_writes.tables.most_common(12)),
        "first_counts": {k: getattr(first, k) for k in ("fetched", "created", "updated", "unchanged", "failed")},
        "first_peak_rss_mb": round((rss_after - rss_before) / 1024, 1),
        "second_s": round(second_s, 2),
        "second_writes": second_writes.count,
        "second_writes_outside_poll_time": second_writes.sync,
        "second_counts": {k: getattr(second, k) for k in ("fetched", "created", "updated", "unchanged", "failed")},
        "second_over_first": round(second_s / first_s, 3) if first_s else None,
    }


if __name__ == "__main__":
    print(json.dumps(main(int(sys.argv[1]) if len(sys.argv) > 1 else 10000)))
