"""Bulk-import benchmark (issue 15, "Performance"): a users file with units, groups and
memberships validated and applied, memory at two sizes, a re-import, a 100k-row export.

Run by tests/bench/part_imports.py on the bench database, one fresh process per step, each
printing one JSON line (the last line of its stdout):

    python -m tests.bench.imports seed            # the property: units and groups
    python -m tests.bench.imports run 10000       # a fresh 10k file: validate, apply, re-import
    python -m tests.bench.imports memory 10000    # peak RSS growth of validate + apply (fresh file)
    python -m tests.bench.imports export-seed 100000  # that many people in bulk (a property of their own)
    python -m tests.bench.imports export 100000   # stream its users export (CSV), peak RSS growth
    python -m tests.bench.imports profile 2000    # cProfile of one apply (top functions, stderr)

The property ("Import Bench") has 10 buildings × 10 floors × 10 units (1,110 areas, each with
its area group) and four custom groups. A file of n people (`users_file(n, start)`) gives
each an externalId, email, names, phone, a unit (path `Building b / Floor f / Unit u`) and
0–2 of the custom groups: n rows make the person, their externalId and 1–3 memberships.

Apply is timed the way a worker runs it: `services.import_run_apply` (the plan checked again
against the data, then every operation through the services in one transaction). Its
events are appended as usual; their processing (derived access, key-map requests) is a
separate worker task per event and is timed apart (`settle`): the on-commit Celery enqueue
is replaced by a list and `event_process` is called for each event after the apply.
"""

import gc
import json
import os
import resource
import sys
import time

SEED_NAME = "Import Bench"
GROUPS = ("Gym", "Parking", "Bike room", "Pool")
BUILDINGS, FLOORS, UNITS = 10, 10, 10
HEADER = "externalId,email,displayName,firstName,lastName,phoneNumber,unit,groups\r\n"


def _setup() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "tests.bench.settings")
    import django

    django.setup()


def _maxrss_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _events_to_list() -> list:
    """Events go to a list (processed by `_settle`), and the run's own Celery steps are called
    by the bench rather than enqueued on commit (so each is timed alone)."""
    from apps.imports import services
    from tests.bench.access import _events_to_list as to_list

    services._enqueue = lambda task, run_id: None
    return to_list()


def users_file(n: int, start: int = 0) -> bytes:
    """n people (numbered from `start`, so files of different runs name different people)."""
    lines = [HEADER]
    for i in range(start, start + n):
        b, f, u = i % BUILDINGS + 1, i // BUILDINGS % FLOORS + 1, i // (BUILDINGS * FLOORS) % UNITS + 1
        groups = "|".join([GROUPS[k] for k in range(len(GROUPS)) if (i >> k) & 1][:2])
        lines.append(
            f"E{i:07d},person{i}@bench.example,Person {i},Person,No{i},+1617{i % 10_000_000:07d},"
            f"Building {b} / Floor {f} / Unit {u},{groups}\r\n"
        )
    return "".join(lines).encode()


def _property():
    from apps.properties.models import Property

    return Property.objects.get(display_name=SEED_NAME)


def step_seed() -> dict:
    """The property, its 1,110 areas and 4 custom groups, through the services."""
    from django.db import transaction

    from apps.access import services as access_services
    from apps.core.actors import SYSTEM

    _events_to_list()
    started = time.perf_counter()
    with transaction.atomic():
        prop = access_services.property_create(
            display_name=SEED_NAME,
            address={"line1": "1 Bench St", "city": "Boston", "state": "MA", "country": "US", "postalCode": "02110"},
            time_zone="America/New_York",
            actor=SYSTEM,
        )
        for name in GROUPS:
            access_services.user_group_create(prop=prop, display_name=name, group_type="common", actor=SYSTEM)
        for b in range(1, BUILDINGS + 1):
            building = access_services.area_create(
                prop=prop, display_name=f"Building {b}", area_type="common", actor=SYSTEM
            )
            for f in range(1, FLOORS + 1):
                floor = access_services.area_create(
                    prop=prop, display_name=f"Floor {f}", area_type="common", parent_id=building.pk, actor=SYSTEM
                )
                for u in range(1, UNITS + 1):
                    access_services.area_create(
                        prop=prop, display_name=f"Unit {u}", area_type="resident", parent_id=floor.pk, actor=SYSTEM
                    )
    return {"areas": BUILDINGS * (1 + FLOORS * (1 + UNITS)), "seconds": round(time.perf_counter() - started, 1)}


def _import(prop, content: bytes, appended: list) -> dict:
    """Upload, validate and apply one users file; seconds of each, and what apply did."""
    from django.db import connection

    from apps.core.actors import SYSTEM
    from apps.imports import services
    from apps.imports.models import ImportRun

    run = services.import_run_create(
        prop=prop, kind="users", mode="merge", file_name="people.csv", content=content, actor=SYSTEM
    )
    started = time.perf_counter()
    run = services.import_run_validate(run_id=run.pk)
    validated = time.perf_counter() - started
    assert run.status == "validated" and not run.errors, (run.status, run.errors[:3])
    services.import_run_apply_request(run=run, actor="staff:bench")
    before = len(appended)
    started = time.perf_counter()
    queries = []
    with connection.execute_wrapper(lambda execute, sql, *args: queries.append(1) or execute(sql, *args)):
        run = services.import_run_apply(run_id=run.pk)
    applied = time.perf_counter() - started
    run = ImportRun.objects.get(pk=run.pk)
    assert run.status == "applied", run.failure
    return {
        "validate_s": round(validated, 3),
        "apply_s": round(applied, 3),
        "apply_queries": len(queries),
        "events": len(appended) - before,
        "summary": run.summary.get("applied"),
    }


def _settle(appended: list) -> float:
    """Process the events an apply appended, as the worker would (derived access follows)."""
    from apps.events.services import event_process

    started = time.perf_counter()
    for event_id in appended:
        event_process(event_id=event_id)
    appended.clear()
    return time.perf_counter() - started


def _next_start() -> int:
    from apps.accounts.models import User

    return User.objects.filter(email__endswith="@bench.example").count()


def step_run(n: int) -> dict:
    """A fresh n-row file: validate and apply (rows/s each), settle its events, then the same
    file again (changes nothing: timed against the first)."""
    appended = _events_to_list()
    prop = _property()
    content = users_file(n, _next_start())
    first = _import(prop, content, appended)
    first["settle_s"] = round(_settle(appended), 3)
    again = _import(prop, content, appended)
    again["settle_s"] = round(_settle(appended), 3)
    return {"rows": n, "bytes": len(content), "first": first, "again": again}


def step_memory(n: int) -> dict:
    """Peak RSS growth of validating and applying a fresh n-row file (this process only)."""
    appended = _events_to_list()
    prop = _property()
    content = users_file(n, _next_start())
    gc.collect()
    base = _maxrss_mib()
    result = _import(prop, content, appended)
    return {"rows": n, "peak_mib": round(_maxrss_mib(), 1), "peak_growth_mib": round(_maxrss_mib() - base, 1), **result}


def step_profile(n: int) -> dict:
    import cProfile
    import pstats

    from apps.imports import services

    appended = _events_to_list()
    prop = _property()
    content = users_file(n, _next_start())
    profiler = cProfile.Profile()
    original = services.import_run_apply

    def profiled(**kw):
        profiler.enable()
        try:
            return original(**kw)
        finally:
            profiler.disable()

    services.import_run_apply = profiled
    result = _import(prop, content, appended)
    stats = pstats.Stats(profiler, stream=sys.stderr)
    stats.sort_stats("cumulative").print_stats(45)
    stats.sort_stats("tottime").print_stats(25)
    return result


def _export_name(n: int) -> str:
    return f"Export Bench {n}"


def step_export_seed(n: int) -> dict:
    """A property of n people, each in a unit's group and with an externalId, written in bulk
    (bench-only: no events; the export reads rows, it does not care how they came)."""
    from django.contrib.contenttypes.models import ContentType
    from django.db import transaction

    from apps.access import services as access_services
    from apps.access.models import Membership, UserGroup
    from apps.accounts.models import User
    from apps.core.actors import SYSTEM
    from apps.core.models import ExternalRef
    from apps.imports.plans import external_source

    _events_to_list()
    started = time.perf_counter()
    with transaction.atomic():
        prop = access_services.property_create(
            display_name=_export_name(n),
            address={"line1": "2 Bench St", "city": "Boston", "state": "MA", "country": "US", "postalCode": "02110"},
            actor=SYSTEM,
        )
        building = access_services.area_create(prop=prop, display_name="Building", area_type="common", actor=SYSTEM)
        units = [
            access_services.area_create(
                prop=prop, display_name=f"Unit {u}", area_type="resident", parent_id=building.pk, actor=SYSTEM
            )
            for u in range(1, 101)
        ]
        groups = list(UserGroup.objects.filter(area__in=units).order_by("display_name"))
        user_type = ContentType.objects.get_for_model(User)
        for start in range(0, n, 5000):
            people = [
                User(email=f"x{n}-{i}@bench.example", display_name=f"Person {i}", first_name="Person", last_name=f"{i}")
                for i in range(start, min(n, start + 5000))
            ]
            for person in people:
                person.set_unusable_password()
            User.objects.bulk_create(people, batch_size=1000)
            Membership.objects.bulk_create(
                [Membership(user=p, user_group=groups[i % len(groups)]) for i, p in enumerate(people)], batch_size=1000
            )
            ExternalRef.objects.bulk_create(
                [
                    ExternalRef(
                        content_type=user_type,
                        object_id=p.pk,
                        source=external_source(prop),
                        external_id=f"X{start + i}",
                        sync_direction="fromExternalToInternal",
                    )
                    for i, p in enumerate(people)
                ],
                batch_size=1000,
            )
    return {"people": n, "seconds": round(time.perf_counter() - started, 1)}


def step_export(n: int) -> dict:
    """Stream the users export (CSV) of the n-people property as the API sends it, counting
    bytes and rows; the peak RSS growth of this fresh process is the export's."""
    from apps.imports.api import export_response
    from apps.properties.models import Property

    prop = Property.objects.get(display_name=_export_name(n))
    gc.collect()
    base = _maxrss_mib()
    started = time.perf_counter()
    response = export_response(prop, "users", "csv")
    size = lines = 0
    for chunk in response.streaming_content:
        size += len(chunk)
        lines += chunk.count(b"\r\n")
    seconds = time.perf_counter() - started
    assert lines == n + 1, (lines, n)
    return {
        "rows": n,
        "bytes": size,
        "seconds": round(seconds, 2),
        "rows_per_s": round(n / seconds),
        "streamed": response.streaming,
        "peak_mib": round(_maxrss_mib(), 1),
        "peak_growth_mib": round(_maxrss_mib() - base, 1),
    }


STEPS = {
    "seed": step_seed,
    "run": step_run,
    "memory": step_memory,
    "profile": step_profile,
    "export-seed": step_export_seed,
    "export": step_export,
}


def main() -> None:
    if len(sys.argv) < 2 or sys.argv[1] not in STEPS:
        raise SystemExit(f"usage: python -m tests.bench.imports {{{'|'.join(STEPS)}}} [rows]")
    _setup()
    args = [int(a) for a in sys.argv[2:]]
    print(json.dumps(STEPS[sys.argv[1]](*args)))


if __name__ == "__main__":
    main()
