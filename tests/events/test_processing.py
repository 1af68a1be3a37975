"""Reliable processing: failures are recorded and retried with exponential backoff by the
sweep, never dropped, shown as failing after a few attempts; processing twice changes nothing."""

import datetime as dt
import threading

import pytest
from django.db import connection, transaction
from django.utils import timezone

from apps.events import registry, services
from apps.events.backoff import retry_delay
from apps.events.constants import FAILING_AFTER_ATTEMPTS, SWEEP_GRACE
from apps.events.models import Event
from apps.events.services import event_process, events_sweep
from tests.events.helpers import FLAKY, event_add, make_due, make_old

pytestmark = pytest.mark.django_db

FIELDS = ("processed_at", "attempts", "last_error", "next_attempt_at", "last_modified_at")


def _state(event) -> dict:
    return Event.objects.filter(pk=event.pk).values(*FIELDS).get()


def _process(event, **kwargs) -> tuple[Event, dt.datetime, dt.datetime]:
    """Process and return (row, time before, time after) to check the retry time against."""
    before = timezone.now()
    event_process(event_id=event.pk, **kwargs)
    after = timezone.now()
    return Event.objects.get(pk=event.pk), before, after


@pytest.fixture
def sent(monkeypatch):
    """Ids the sweep enqueues (instead of sending them to the broker)."""
    ids = []
    monkeypatch.setattr(services, "_enqueue", ids.append)
    return ids


def test_a_failing_handler_records_the_error_and_schedules_a_retry(flaky):
    flaky.failures = 1
    event, before, after = _process(event_add(FLAKY))
    assert event.processed_at is None
    assert event.attempts == 1
    assert event.last_error == "RuntimeError: remote lock cloud unreachable (call 1)"
    assert before + dt.timedelta(seconds=10) <= event.next_attempt_at <= after + dt.timedelta(seconds=10)
    assert not event.is_failing


def test_retries_back_off_exponentially_to_the_cap_and_never_stop(flaky, sent):
    flaky.failures = 10**6  # a remote that never comes back
    event = event_add(FLAKY)
    for attempt in range(1, 14):
        event, before, after = _process(event)
        delay = retry_delay(attempt)
        assert event.attempts == attempt
        assert before + delay <= event.next_attempt_at <= after + delay, attempt
        assert event.is_failing == (attempt >= FAILING_AFTER_ATTEMPTS)
        assert Event.objects.failing().filter(pk=event.pk).exists() == event.is_failing
        make_due(event)
    assert [retry_delay(n).total_seconds() for n in (1, 2, 3, 9, 10, 13)] == [10, 20, 40, 2560, 3600, 3600]
    # Never dropped: 13 failures later it is still unprocessed, and the sweep still sends it.
    assert events_sweep() == 1 and sent == [event.pk]


def test_the_task_leaves_an_event_alone_until_its_retry_time(flaky):
    flaky.failures = 1
    event = event_add(FLAKY)
    event_process(event_id=event.pk)
    waiting = _state(event)
    event_process(event_id=event.pk)  # e.g. a duplicate delivery of the same task
    assert _state(event) == waiting and flaky.calls == 1
    make_due(event)
    event_process(event_id=event.pk)
    assert Event.objects.get(pk=event.pk).processed_at is not None and flaky.calls == 2


def test_sweep_enqueues_only_due_events(flaky, sent):
    flaky.failures = 2
    fresh = event_add(FLAKY)  # its own on-commit enqueue may still be on the way
    lost = event_add(FLAKY)
    make_old(lost)  # never tried, older than the grace period: its enqueue was lost
    waiting = event_add(FLAKY)
    event_process(event_id=waiting.pk)  # failed; retry in 10 s
    due = event_add(FLAKY)
    event_process(event_id=due.pk)  # failed, and its retry time has come
    make_due(due)
    done = event_add(FLAKY)
    make_old(done)
    event_process(event_id=done.pk)  # processed: never sent again

    assert Event.objects.get(pk=done.pk).processed_at is not None
    assert events_sweep() == 2
    assert sorted(sent) == sorted([lost.pk, due.pk])
    assert fresh.pk not in sent and waiting.pk not in sent


def test_sweep_grace_boundary(flaky, sent):
    event = event_add(FLAKY)
    Event.objects.filter(pk=event.pk).update(created_at=timezone.now() - SWEEP_GRACE + dt.timedelta(seconds=5))
    assert events_sweep() == 0
    Event.objects.filter(pk=event.pk).update(created_at=timezone.now() - SWEEP_GRACE - dt.timedelta(seconds=1))
    assert events_sweep() == 1


def test_an_event_no_handler_listens_to_is_processed_when_written_and_never_queued(flaky, sent):
    quiet = event_add("test_events.nobody_listens")
    make_old(quiet)
    assert Event.objects.get(pk=quiet.pk).processed_at is not None
    assert events_sweep() == 0 and quiet.pk not in sent
    handled = event_add(FLAKY)
    assert Event.objects.get(pk=handled.pk).processed_at is None


def test_the_sweep_task_processes_due_events(flaky, settings):
    settings.CELERY_TASK_ALWAYS_EAGER = True
    from apps.events import tasks

    flaky.failures = 1
    event = event_add(FLAKY)
    event_process(event_id=event.pk)
    make_due(event)
    assert tasks.events_sweep.delay().get() == 1
    event.refresh_from_db()
    assert event.processed_at is not None and event.attempts == 2


def test_a_later_success_clears_the_error(flaky):
    flaky.failures = 2
    event = event_add(FLAKY, payload={"n": 1})
    for _ in range(2):
        event, *_ = _process(event)
        assert event.last_error and event.next_attempt_at is not None
        make_due(event)
    event, *_ = _process(event)
    assert event.processed_at is not None
    assert (event.attempts, event.last_error, event.next_attempt_at) == (3, "", None)
    assert not event.is_failing and flaky.state == {event.pk: {"n": 1}}


def test_processing_twice_changes_nothing(flaky):
    event = event_add(FLAKY, payload={"door": "open"})
    event_process(event_id=event.pk)
    processed = _state(event)
    effect = dict(flaky.state)

    assert event_process(event_id=event.pk).pk == event.pk  # not forced: a no-op
    assert _state(event) == processed and flaky.calls == 1

    event_process(event_id=event.pk, force=True)  # forced: the handler runs again, to the same effect
    again = _state(event)
    assert flaky.calls == 2 and flaky.state == effect
    assert again["attempts"] == 2 and again["last_error"] == "" and again["next_attempt_at"] is None


def test_a_failed_forced_rerun_keeps_the_event_processed(flaky, sent):
    event = event_add(FLAKY)
    make_old(event)
    event_process(event_id=event.pk)
    first_success = Event.objects.get(pk=event.pk).processed_at
    flaky.failures = 1
    event, *_ = _process(event, force=True)
    # The handler's earlier effect stands (its rerun rolled back); the error is shown, not retried.
    assert event.processed_at == first_success
    assert event.last_error.startswith("RuntimeError") and event.next_attempt_at is None
    assert not event.is_failing and events_sweep() == 0


class WorkerKilled(BaseException):
    """Stands in for a hard time limit or an OOM kill: not an Exception, nothing catches it."""


def test_a_worker_killed_inside_a_handler_leaves_a_counted_visible_retry(monkeypatch):
    def killed(event):
        raise WorkerKilled

    monkeypatch.setattr(registry, "_HANDLERS", {FLAKY: [killed]})
    event = event_add(FLAKY)
    before = timezone.now()
    with pytest.raises(WorkerKilled):
        event_process(event_id=event.pk)
    event.refresh_from_db()
    assert event.processed_at is None and event.attempts == 1
    assert event.last_error == "attempt 1 did not finish (worker stopped or timed out)"
    assert event.next_attempt_at >= before + dt.timedelta(seconds=10)


def test_unknown_event_is_none():
    assert event_process(event_id="0190b3c4-0000-7000-8000-000000000000") is None


def test_handlers_register_their_source_and_can_be_removed():
    def handler(event):
        pass

    registry.event_handler("test_registry.done")(handler)
    assert "test_registry" in registry.event_sources()
    assert registry.handlers_for("test_registry.done") == [handler]
    registry.event_handler_unregister("test_registry.done", handler)
    assert registry.handlers_for("test_registry.done") == []
    with pytest.raises(ValueError, match="must match"):
        registry.event_source_register("Not A Source")


@pytest.mark.django_db(transaction=True)
def test_a_row_locked_by_another_worker_is_skipped_not_waited_for(flaky, sent):
    """SELECT … FOR UPDATE SKIP LOCKED: PostgreSQL only (SQLite has no row locks). The commit's
    enqueue is held (`sent`): with eager Celery it would process the event before the lock."""
    if connection.vendor != "postgresql":
        pytest.skip("row locks need PostgreSQL (DATABASE_URL=postgres://...)")
    event = event_add(FLAKY)
    assert sent == [event.pk]
    locked, release = threading.Event(), threading.Event()

    def other_worker():
        try:
            with transaction.atomic():
                Event.objects.select_for_update().get(pk=event.pk)
                locked.set()
                release.wait(10)
        finally:
            connection.close()

    thread = threading.Thread(target=other_worker)
    thread.start()
    try:
        assert locked.wait(10)
        assert event_process(event_id=event.pk) is None  # returns at once, runs nothing
        assert flaky.calls == 0
    finally:
        release.set()
        thread.join(10)
    assert event_process(event_id=event.pk).processed_at is not None and flaky.calls == 1
