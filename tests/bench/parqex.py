"""ParqEx poll benchmark (issue 14): a first poll and an unchanged poll of a large account.

Run by tests/bench/part_parqex.py (`BENCH_PARTS=parqex`) in a fresh process, printing one JSON
line (the last line of its stdout):

    python -m tests.bench.parqex [CONTROLLERS]     # default BENCH_PARQEX_CONTROLLERS or 1,000

The ParqEx emulator (in memory, this process) answers CONTROLLERS controllers × 3 doors, made
from the seed's first controller (ids, names and entity numbers varied, one door in three with
a battery sensor). It is served over loopback by a local WSGI server in a thread (the emulator
touches no database), and the real poll (`integration_account_poll`, the ParqEx client with
gzip) runs in the main thread against it: every SQL statement of the main thread is counted by
an execute wrapper (`connection.queries` keeps only the last 9,000: a first poll has more).

Figures: wall time, SQL statements and writes (INSERT/UPDATE/DELETE) per table, for the first
poll (every door becomes a lock, a door row, a link and a health row) and for a second poll with
nothing changed, both scheduled polls (what the dispatcher runs). Writes of an unchanged poll are
split three ways: the sync run's scaffolding (`integrations_syncrun`, `events_event`: a run is
saved only when it changed something or failed), the account (`integrations_integrationaccount`:
the poll time, apps/integrations/services/polling.py; the claim is a cache lease), and the data
(doors, locks, links, health: every other table). Targets, whatever the number of doors: at most
1 write in all, and it is the account's.
"""

import copy
import json
import os
import re
import sys
import threading
import time
from wsgiref.simple_server import WSGIRequestHandler, make_server

DOORS_PER_CONTROLLER = 3
SCAFFOLDING = {"integrations_syncrun", "events_event"}
ACCOUNT = "integrations_integrationaccount"
WRITE = re.compile(r'^\s*(INSERT\s+INTO|UPDATE|DELETE\s+FROM)\s+"?(\w+)"?', re.IGNORECASE)
UNCHANGED_DATA_WRITES_MAX = 0
UNCHANGED_ACCOUNT_WRITES_MAX = 1  # the poll time (the claim is a cache lease)
UNCHANGED_WRITES_MAX = 1  # all tables


def body(controllers: int) -> dict:
    """The emulator's answer: `controllers` controllers of 3 doors each, from the seed's first."""
    from apps.integrations.parqex.fixture import seed_sync

    template = seed_sync()["devices"][0]
    door_template = template["doors"][0]
    devices = []
    for c in range(controllers):
        device = copy.deepcopy(template)
        device["id"] = f"{c:032x}"
        device["blackbox_code"] = f"{c:016x}"
        device["doors"] = []
        for d in range(DOORS_PER_CONTROLLER):
            door = copy.deepcopy(door_template)
            door["id"] = f"{c:028x}{d:04x}"
            door["name"] = f"Controller {c + 1} door {d + 1}"
            door["entity_number"] = d + 1
            door["bluetooth_sensor"] = d == 0
            door["bluetooth_sensor_battery_level"] = 80 if d == 0 else 0
            door["state"] = "CLOSED"
            device["doors"].append(door)
        devices.append(device)
    return {"devices": devices}


class _Counter:
    """Counts every SQL statement of the connection and its writes per table (an execute
    wrapper: no cap, unlike connection.queries' last 9,000)."""

    def __init__(self) -> None:
        self.statements = 0
        self.tables: dict[str, int] = {}

    def __call__(self, execute, sql, params, many, context):
        self.statements += 1
        match = WRITE.match(sql)
        if match:
            self.tables[match.group(2)] = self.tables.get(match.group(2), 0) + 1
        return execute(sql, params, many, context)


def _poll(account_id) -> dict:
    from django.db import connection

    from apps.integrations import services

    counter = _Counter()
    with connection.execute_wrapper(counter):
        started = time.perf_counter()
        run = services.integration_account_poll(account_id=account_id, trigger=services.SCHEDULED)
        seconds = time.perf_counter() - started
    writes = dict(sorted(counter.tables.items()))
    return {
        "status": run.status,
        "error": run.error,
        "fetched": run.fetched,
        "created": run.created,
        "updated": run.updated,
        "unchanged": run.unchanged,
        "seconds": round(seconds, 3),
        "queries": counter.statements,
        "writes": sum(writes.values()),
        "writesByTable": writes,
        "accountWrites": writes.get(ACCOUNT, 0),
        "dataWrites": sum(n for table, n in writes.items() if table not in SCAFFOLDING | {ACCOUNT}),
    }


def main(controllers: int) -> dict:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "tests.bench.settings")
    os.environ["KEYHOUSE_EMULATORS"] = "true"
    os.environ["KEYHOUSE_INTEGRATION_ALLOW_HTTP"] = "true"  # the emulator on plain-http loopback
    import django

    django.setup()
    from django.core.wsgi import get_wsgi_application

    from apps.access import services as access_services
    from apps.core.actors import SYSTEM
    from apps.integrations import services
    from apps.integrations.parqex.emulator import state as emulator
    from apps.properties.demo import DEMO_ADDRESS

    emulator.reset()
    emulator.state().body = body(controllers)

    class Quiet(WSGIRequestHandler):
        def log_message(self, *args) -> None:
            pass

    server = make_server("127.0.0.1", 0, get_wsgi_application(), handler_class=Quiet)
    thread = threading.Thread(target=server.serve_forever, name="parqex-bench-emulator", daemon=True)
    thread.start()
    try:
        prop = access_services.property_create(
            display_name=f"ParqEx bench {time.time_ns()}", address=DEMO_ADDRESS, actor=SYSTEM
        )
        account = services.integration_account_create(
            prop=prop,
            kind="parqex",
            display_name="ParqEx bench",
            base_url=f"http://127.0.0.1:{server.server_port}/_emulators/parqex",
            credentials={"token": emulator.EMULATOR_TOKEN},
            actor=SYSTEM,
        )
        first = _poll(account.pk)
        unchanged = _poll(account.pk)
    finally:
        server.shutdown()
        server.server_close()
    return {
        "controllers": controllers,
        "doors": controllers * DOORS_PER_CONTROLLER,
        "first": first,
        "unchanged": unchanged,
        "unchangedDataWritesMax": UNCHANGED_DATA_WRITES_MAX,
        "unchangedAccountWritesMax": UNCHANGED_ACCOUNT_WRITES_MAX,
        "unchangedWritesMax": UNCHANGED_WRITES_MAX,
    }


if __name__ == "__main__":
    count = int(sys.argv[1]) if len(sys.argv) > 1 else int(os.environ.get("BENCH_PARQEX_CONTROLLERS", "1000"))
    print(json.dumps(main(count)))
