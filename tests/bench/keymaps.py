"""Key-map benchmark (issue 17): revocation through a live worker, build-all on one and two
workers. Run by tests/bench/part_keymaps.py, one fresh process per step, each printing one JSON
line (the last line of its stdout):

    python -m tests.bench.keymaps seed          # the 10k campus + a phone per user (protocol seed)
    python -m tests.bench.keymaps build         # every key map built and signed, in-process, timed
    python -m tests.bench.keymaps workers N     # every map re-signed by N live Celery workers
    python -m tests.bench.keymaps revoke        # membership removals, each through a live worker

`workers N` and `revoke` need Redis (REDIS_URL, set by the part) and a database the workers can
share (PostgreSQL, or SQLite's file). They start `celery -A config worker --pool=solo` processes
themselves (on every queue, as `make worker` does), wait until each answers a ping, and stop
them at the end.

`workers N` enqueues `key_maps_rebuild(reissue=True)` (parts of 100 locks, each a
`key_maps_build_part` task) and times from its commit to the last part's `finished_at`: every
one of the campus's 1,000 maps signed anew.

`revoke` removes a resident with a phone from a group, REVOKE_RUNS times (alternately the Pool
pass, which one lock names, and the building's residents group, which seven name), each
through the service in this process, as an API call would; the worker processes the event and
runs the key-map build it asks for. The figure is the latency recorded on the change,
`KeyMapRequest.signed_after_ms` (the change's event, written in the service's transaction, to
the build having stored every map it signed); the bench waits for it, checks that no new map of
a lock naming the group still carries the resident's key, and puts the resident back (waiting
for that build too) before the next run.
"""

import json
import math
import os
import statistics
import subprocess
import sys
import time
import uuid
from contextlib import contextmanager
from pathlib import Path

from tests.bench.access import BIG, CAMPUS_NAMES, _setup

REVOKE_RUNS = max(4, int(os.environ.get("BENCH_KEYMAP_REVOKE_RUNS", "30")))
WAIT_SECONDS = 120
WORKER_START_SECONDS = 60
ROOT = Path(__file__).resolve().parents[2]


# --- live workers ---------------------------------------------------------------------------------


@contextmanager
def workers_running(count: int):
    """`count` Celery workers (solo pool, every queue), each answering a ping; stopped after."""
    from django.conf import settings

    from config.celery import app

    queues = ",".join(dict.fromkeys(settings.KEYHOUSE_QUEUES))
    log_dir = Path(os.environ.get("KEYHOUSE_VAR_DIR", "/tmp")) / "bench-workers"
    log_dir.mkdir(parents=True, exist_ok=True)
    started = []
    try:
        for _ in range(count):
            name = f"bench-{uuid.uuid4().hex[:8]}@localhost"
            log = (log_dir / f"{name.split('@')[0]}.log").open("wb")
            process = subprocess.Popen(  # noqa: S603 - fixed argv
                [sys.executable, "-m", "celery", "-A", "config", "worker", "--pool=solo", "--concurrency=1",
                 "-Q", queues, "--loglevel=WARNING", "-n", name, "--without-gossip", "--without-mingle"],
                cwd=ROOT, env={**os.environ, "CELERY_TASK_ALWAYS_EAGER": "false"}, stdin=subprocess.DEVNULL,
                stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
            )  # fmt: skip
            started.append((name, process, log))
        deadline = time.monotonic() + WORKER_START_SECONDS
        waiting = {name for name, _, _ in started}
        while waiting:
            for name, process, _ in started:
                if process.poll() is not None:
                    raise SystemExit(f"keymaps bench: worker {name} exited with {process.returncode}")
            answered = app.control.ping(destination=sorted(waiting), timeout=0.5)
            waiting -= {name for reply in answered for name in reply}
            if waiting and time.monotonic() > deadline:
                raise SystemExit(f"keymaps bench: workers {sorted(waiting)} did not answer a ping")
        yield [name for name, _, _ in started]
    finally:
        for _, process, _log in started:
            if process.poll() is None:
                os.killpg(process.pid, 15)
        for _, process, log in started:
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, 9)
                process.wait(timeout=10)
            log.close()


def _wait(predicate, what: str):
    deadline = time.monotonic() + WAIT_SECONDS
    while True:
        found = predicate()
        if found:
            return found
        if time.monotonic() > deadline:
            raise SystemExit(f"keymaps bench: waited {WAIT_SECONDS} s for {what}")
        time.sleep(0.01)


def _campus():
    from apps.properties.models import Property

    return Property.objects.get(display_name=CAMPUS_NAMES[BIG])


# --- steps ----------------------------------------------------------------------------------------


def step_seed() -> dict:
    from tests.bench import protocol

    return protocol.step_seed()


def step_build() -> dict:
    """Every map of the campus built and signed (nothing signed before), in this process."""
    from tests.bench import protocol

    return protocol.step_build()


def step_workers(count: int) -> dict:
    """Every map re-signed by `count` live workers sharing the parts of one build-all."""
    from django.db import transaction
    from django.db.models import Max, Min, Sum

    from apps.locks.models import KeyMapBuild
    from apps.locks.services import key_maps_rebuild

    prop = _campus()
    with workers_running(count) as names:
        first_id = KeyMapBuild.objects.aggregate(n=Max("id"))["n"] or 0
        with transaction.atomic():
            parts = key_maps_rebuild(property_id=prop.pk, reissue=True)
        committed = time.perf_counter()
        from django.utils import timezone

        committed_at = timezone.now()
        builds = KeyMapBuild.objects.filter(id__gt=first_id, property_id=prop.pk, reason="rebuild")
        _wait(lambda: builds.filter(finished_at__isnull=False).count() >= len(parts), f"{len(parts)} parts")
        seconds = time.perf_counter() - committed
        totals = builds.aggregate(
            signed=Sum("locks_signed"), checked=Sum("locks_checked"), first=Min("started_at"), last=Max("finished_at")
        )
    return {
        "workers": len(names),
        "parts": len(parts),
        "locks_checked": totals["checked"],
        "locks_signed": totals["signed"],
        "seconds": round(seconds, 2),
        "seconds_by_rows": round((totals["last"] - committed_at).total_seconds(), 2),
        "part_ms": sorted(builds.values_list("duration_ms", flat=True)),
    }


def _percentile(values: list, fraction: float):
    ordered = sorted(values)
    return ordered[max(0, math.ceil(fraction * len(ordered)) - 1)]


def step_revoke() -> dict:
    from apps.access import services as access_services
    from apps.access.models import AccessBlock, Membership, UserGroup
    from apps.access.selectors import lock_ids_naming
    from apps.accounts.models import User
    from apps.core.actors import SYSTEM
    from apps.devices.models import UserDevice
    from apps.events.models import Event
    from apps.locks.models import KeyMapRequest, Lock, SignedKeyMap

    prop = _campus()
    blocked = AccessBlock.objects.filter(property=prop).values("user_id")
    residents = UserGroup.objects.get(property=prop, group_source="property", group_type="resident")
    pool = UserGroup.objects.get(property=prop, display_name="Pool pass")
    people = list(
        User.objects.filter(memberships__user_group=residents, devices__isnull=False)
        .exclude(pk__in=blocked)
        .exclude(memberships__user_group=pool)
        .distinct()
        .order_by("email")[: REVOKE_RUNS + 1]
    )
    building = {}  # person -> their building's residents group (named by the building's 7 locks)
    for person in people:
        group = (
            UserGroup.objects.filter(memberships__user=person, property=prop, display_name__endswith=" residents")
            .exclude(pk=residents.pk)
            .first()
        )
        building[person.pk] = group

    def answered(event_name: str, user, since):
        def found():
            event = (
                Event.objects.filter(event_name=event_name, user_id=user.pk, created_at__gte=since)
                .order_by("-created_at")
                .first()
            )
            if event is None:
                return None
            return KeyMapRequest.objects.filter(event_id=event.pk, build__isnull=False).first()

        return _wait(found, f"the key-map build answering {event_name} of {user.email}")

    samples = []
    with workers_running(1):
        for run, person in enumerate(people):
            group = pool if run % 2 == 0 else building[person.pk]
            if group == pool:  # they hold the pass first (untimed, built before the run)
                since = _now()
                access_services.membership_add(group=pool, user=person, actor=SYSTEM)
                answered("group.member_added", person, since)
            named = lock_ids_naming(group_ids=[group.pk], property_ids=[prop.pk]).get(str(prop.pk), set())
            versions = dict(Lock.objects.filter(pk__in=named).values_list("id", "signed_key_map_version"))
            since = _now()
            started = time.perf_counter()
            access_services.membership_remove(group=group, user=person, actor=SYSTEM)
            request = answered("group.member_removed", person, since)
            seen = time.perf_counter() - started
            kids = set(UserDevice.objects.filter(user=person).values_list("access_key__kid", flat=True))
            moved = 0
            for lock_id, version in Lock.objects.filter(pk__in=named).values_list("id", "signed_key_map_version"):
                moved += version != versions.get(lock_id)
                newest = SignedKeyMap.objects.get(lock_id=lock_id, version=version)
                if kids & {entry["kid"] for entry in newest.payload["entries"]}:
                    raise SystemExit("keymaps revoke: a new map still carries the removed resident's key")
            if run > 0:  # the first run warms the worker up (its first build)
                samples.append(
                    {
                        "group": "pool" if group == pool else "building",
                        "signed_after_ms": request.signed_after_ms,
                        "seen_ms": round(seen * 1000, 1),
                        "locks_signed": moved,
                    }
                )
            if group != pool:  # back in their building's group, as seeded
                since = _now()
                access_services.membership_add(group=group, user=person, actor=SYSTEM)
                answered("group.member_added", person, since)
    if Membership.objects.filter(user_group=pool, user__in=people).exists():
        raise SystemExit("keymaps revoke: the bench left a Pool pass membership behind")

    def figures(rows):
        values = [row["signed_after_ms"] for row in rows]
        return {
            "runs": len(values),
            "p50_ms": statistics.median(values),
            "p99_ms": _percentile(values, 0.99),
            "max_ms": max(values),
            "seen_p50_ms": statistics.median(row["seen_ms"] for row in rows),
            "locks_signed": sorted({row["locks_signed"] for row in rows}),
        }

    return {
        "all": figures(samples),
        "pool": figures([s for s in samples if s["group"] == "pool"]),
        "building": figures([s for s in samples if s["group"] == "building"]),
    }


def step_scale(scale: int) -> dict:
    """A campus of `scale` × 1,000 people (tests/bench/access.py's plan; 100 is the issue's
    100k-person property) seeded in bulk, then derived from empty: time, and the growth of this
    fresh process's peak RSS."""
    import gc

    from django.db import connection

    from apps.access import derive
    from tests.bench import access

    access.CAMPUS_NAMES.setdefault(scale, f"Bench Campus {scale}k")
    access._events_to_list()
    started = time.perf_counter()
    counts = access.campus_seed(scale)
    seeded = time.perf_counter() - started
    gc.collect()
    rss = access._maxrss_mib()
    started = time.perf_counter()
    result = derive.property_rebuild(property_id=counts["property_id"])
    rebuild = time.perf_counter() - started
    growth = access._maxrss_mib() - rss
    if connection.vendor == "postgresql":  # steady-state statistics for `scale-changes`, as after seeding
        with connection.cursor() as cursor:
            cursor.execute("VACUUM ANALYZE")
    return {
        "scale": scale,
        "counts": {k: v for k, v in counts.items() if k != "property_id"},
        "seed_seconds": round(seeded, 1),
        "rebuild_seconds": round(rebuild, 1),
        "rebuild_maxrss_growth_mib": round(growth, 1),
        "users_changed": len(result.users_changed),
        "derived": access._derived_counts(counts["property_id"]),
    }


def step_scale_changes(scale: int) -> dict:
    """In a fresh process (after `scale`): Pool-pass membership changes on that campus and on
    the 10k one, interleaved, as the access part times them."""
    from tests.bench import access

    access.CAMPUS_NAMES.setdefault(scale, f"Bench Campus {scale}k")
    appended = access._events_to_list()
    campuses = {"scaled": access.PoolPass(scale, appended), "big": access.PoolPass(BIG, appended)}
    for campus in campuses.values():
        campus.change(campus.users[0], add=True, record=False)  # warm-up
        campus.change(campus.users[0], add=False, record=False)
        campus.change(campus.users[1], add=True, count=True)
        campus.change(campus.users[1], add=False, count=True)
    for run in range(access.CHANGE_RUNS):
        order = list(campuses.values()) if run % 2 == 0 else list(reversed(campuses.values()))
        for campus in order:
            campus.change(campus.users[run + 2], add=True)
        for campus in order:
            campus.change(campus.users[run + 2], add=False)
    out = {}
    for name, campus in campuses.items():
        campus.check()
        out[name] = campus.summary()
        out[name].pop("sql", None)
    return out


def _now():
    from django.utils import timezone

    return timezone.now()


def main() -> None:
    steps = {
        "seed": step_seed,
        "build": step_build,
        "workers": step_workers,
        "revoke": step_revoke,
        "scale": step_scale,
        "scale-changes": step_scale_changes,
    }
    if len(sys.argv) < 2 or sys.argv[1] not in steps:
        raise SystemExit(f"usage: python -m tests.bench.keymaps {{{'|'.join(steps)}}} [N]")
    _setup()
    args = [int(a) for a in sys.argv[2:]]
    print(json.dumps(steps[sys.argv[1]](*args), default=str))


if __name__ == "__main__":
    main()
