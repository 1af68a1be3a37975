"""A worker killed (SIGKILL) inside a handler and inside a key-map build, with a REAL Celery
worker over Redis on the test database (PostgreSQL; `.ci/run` phase 2) (issue 18, "Faults"):
- inside a handler: the attempt is counted, the handler's writes roll back, and after a
  restart the event finishes exactly once in effect, also when the broker delivers it twice;
- inside a key-map build: nothing of the build is kept, its requests stay open, and after a
  restart the lock's map is signed once (version 1), also when the build is delivered again."""

import time
from datetime import timedelta

import pytest
from django.db import transaction
from django.utils import timezone

from apps.core.actors import SYSTEM
from apps.events import services, tasks
from apps.events.models import Event
from apps.locks import tasks as lock_tasks
from apps.locks.models import KeyMapRequest, Lock, SignedKeyMap
from tests.events.helpers import make_due
from tests.events.live_app import EFFECT, SLOW
from tests.events.test_worker_live import _wait_processed
from tests.factories import access as a
from tests.factories import directory as d

pytestmark = [pytest.mark.celery_worker, pytest.mark.django_db(transaction=True)]


def _wait_for(path, worker, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while not path.exists():
        if not worker.alive():
            pytest.fail(f"worker died before the handler started:\n{worker.log_tail()}")
        if time.monotonic() > deadline:
            pytest.fail(f"the slow handler did not start in {timeout:.0f}s:\n{worker.log_tail()}")
        time.sleep(0.1)


def test_a_worker_killed_inside_a_handler_leaves_an_event_that_finishes_once_after_restart(live_workers, tmp_path):
    env = {"KEYHOUSE_TEST_SLOW_MARKER": str(tmp_path / "slow-started")}
    first = live_workers.start(celery_app="tests.events.live_app", env=env)
    with transaction.atomic():
        event = services.event_append(event_name=SLOW, actor=SYSTEM)
    _wait_for(tmp_path / "slow-started", first)

    live_workers.kill(first)

    # The attempt is counted and visible; what the handler wrote rolled back with it.
    event.refresh_from_db()
    assert event.processed_at is None
    assert event.attempts == 1
    assert "did not finish" in event.last_error
    assert event.next_attempt_at is not None
    assert not Event.objects.filter(event_name=EFFECT).exists()

    # A new worker; the sweep (beat, every minute) re-sends the event once its retry time comes.
    second = live_workers.start(celery_app="tests.events.live_app", env=env)
    make_due(event)
    assert services.events_sweep() == 1
    done = _wait_processed(event.pk, second)
    assert done.attempts == 2 and done.last_error == ""
    assert list(Event.objects.filter(event_name=EFFECT).values_list("payload", flat=True)) == [{"of": str(event.pk)}]

    # The killed worker's message delivered again (the broker restores unacknowledged ones):
    # the processed event is left alone. A later event in the same one-at-a-time queue shows
    # the duplicate has been handled by then.
    tasks.event_process.delay(str(event.pk))
    with transaction.atomic():
        later = services.event_append(event_name="test_events.thing", actor=SYSTEM)
    _wait_processed(later.pk, second)
    event.refresh_from_db()
    assert event.attempts == 2
    assert Event.objects.filter(event_name=EFFECT).count() == 1


def _wait_signed(lock, worker, timeout: float = 60.0) -> list[int]:
    deadline = time.monotonic() + timeout
    while True:
        versions = sorted(SignedKeyMap.objects.filter(lock=lock).values_list("version", flat=True))
        if versions and not KeyMapRequest.objects.filter(property_id=lock.property_id, build__isnull=True).exists():
            return versions
        if not worker.alive():
            pytest.fail(f"worker died:\n{worker.log_tail()}")
        if time.monotonic() > deadline:
            pytest.fail(f"the key map of {lock.display_name} was not signed in {timeout:.0f}s:\n{worker.log_tail()}")
        time.sleep(0.2)


def test_a_worker_killed_inside_a_key_map_build_leaves_it_to_finish_once_after_restart(live_workers, tmp_path):
    env = {"KEYHOUSE_TEST_SLOW_SIGN_MARKER": str(tmp_path / "signing")}
    first = live_workers.start(celery_app="tests.events.live_app", env=env)
    prop = d.property_create(display_name="Killed Build Court")
    unit = d.area_create(prop, display_name="Unit 7")
    lock = a.lock_in(unit, "Unit 7 door")
    d.member_add(unit.area_user_group, d.user_create(display_name="Kim Resident"))
    _wait_for(tmp_path / "signing", first, timeout=60)

    live_workers.kill(first)

    # The build's transaction rolled back: no map, the lock's version unmoved, the requests open.
    assert not SignedKeyMap.objects.filter(lock=lock).exists()
    assert Lock.objects.get(pk=lock.pk).signed_key_map_version == 0
    assert KeyMapRequest.objects.filter(property_id=prop.pk, build__isnull=True).exists()

    # A new worker: queued builds and the sweep (beat, every minute) finish it.
    second = live_workers.start(celery_app="tests.events.live_app", env=env)
    KeyMapRequest.objects.filter(property_id=prop.pk).update(requested_at=timezone.now() - timedelta(minutes=5))
    lock_tasks.key_maps_sweep.delay()
    assert _wait_signed(lock, second) == [1]
    assert Lock.objects.get(pk=lock.pk).signed_key_map_version == 1

    # The killed worker's build delivered again: nothing changed, so nothing is signed.
    lock_tasks.key_maps_build.delay(str(prop.pk))
    with transaction.atomic():
        later = services.event_append(event_name="test_events.thing", actor=SYSTEM)
    _wait_processed(later.pk, second)
    assert sorted(SignedKeyMap.objects.filter(lock=lock).values_list("version", flat=True)) == [1]


def test_a_worker_killed_inside_an_import_apply_is_resumed_and_applies_each_row_once(live_workers, tmp_path):
    """Issue 15: "resumable if the worker dies mid-way (nothing applied twice, nothing lost)".
    The worker dies with the first batch written but not committed; the resume sweep (beat)
    queues the apply again for a new worker, and every row is applied exactly once."""
    from apps.accounts.models import User
    from apps.imports import services as import_services
    from apps.imports import tasks as import_tasks
    from apps.imports.models import ImportRun, ImportRunStatus

    env = {"KEYHOUSE_TEST_SLOW_IMPORT_MARKER": str(tmp_path / "importing")}
    first = live_workers.start(celery_app="tests.events.live_app", env=env)
    prop = d.property_create(display_name="Import Towers")
    header = "externalId,email,displayName,firstName,lastName,phoneNumber,unit,groups\r\n"
    rows = "".join(f"ext-{i},p{i}@example.com,Person {i},,,,,\r\n" for i in range(450))  # 3 batches of 200
    with transaction.atomic():
        run = import_services.import_run_create(
            prop=prop,
            kind="users",
            mode="merge",
            file_name="people.csv",
            content=(header + rows).encode(),
            actor=SYSTEM,
        )
    deadline = time.monotonic() + 60
    while ImportRun.objects.get(pk=run.pk).status != ImportRunStatus.VALIDATED:
        assert time.monotonic() < deadline, f"not validated:\n{first.log_tail()}"
        time.sleep(0.2)
    with transaction.atomic():
        import_services.import_run_apply_request(run=ImportRun.objects.get(pk=run.pk), actor="staff:test")
    _wait_for(tmp_path / "importing", first, timeout=60)

    live_workers.kill(first)

    assert ImportRun.objects.get(pk=run.pk).status == ImportRunStatus.APPLYING
    assert not User.objects.filter(email__startswith="p", email__endswith="@example.com").exists()
    # Nothing is resumed while the run is fresh; a minute later the sweep queues it again.
    assert import_services.import_runs_resume() == []
    ImportRun.objects.filter(pk=run.pk).update(last_modified_at=timezone.now() - timedelta(minutes=2))
    second = live_workers.start(celery_app="tests.events.live_app", env=env)
    import_tasks.import_runs_resume.delay()
    deadline = time.monotonic() + 90
    while ImportRun.objects.get(pk=run.pk).status == ImportRunStatus.APPLYING:
        assert time.monotonic() < deadline, f"not resumed:\n{second.log_tail()}"
        time.sleep(0.3)
    assert ImportRun.objects.get(pk=run.pk).status == ImportRunStatus.APPLIED
    assert User.objects.filter(email__startswith="p", email__endswith="@example.com").count() == 450
    assert import_services.import_runs_resume() == []  # an applied run is never queued again
