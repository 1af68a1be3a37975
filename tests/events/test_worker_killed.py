"""A worker killed (SIGKILL) inside a handler, with a REAL Celery worker over Redis on the test
database (PostgreSQL; `.ci/run` phase 2): the attempt is counted, the handler's writes roll
back, and after a restart the event finishes exactly once in effect, also when the broker
delivers it twice (issue 18, "Faults")."""

import time

import pytest
from django.db import transaction

from apps.core.actors import SYSTEM
from apps.events import services, tasks
from apps.events.models import Event
from tests.events.helpers import make_due
from tests.events.live_app import EFFECT, SLOW
from tests.events.test_worker_live import _wait_processed

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
