"""The outbox end to end with a REAL Celery worker over Redis (fixtures in conftest.py).

Runs when REDIS_URL is set and the database is PostgreSQL (`.ci/run` phase 2); skipped
otherwise. Each test gets its own worker process on the committed test database.
"""

import logging
import time
from datetime import timedelta

import pytest
from django.db import transaction
from django.utils import timezone
from kombu.exceptions import OperationalError

from apps.accounts.services import user_update
from apps.core.actors import SYSTEM
from apps.events import services, tasks
from apps.events.models import Event
from tests.factories.directory import user_create

pytestmark = [pytest.mark.celery_worker, pytest.mark.django_db(transaction=True)]

PROCESS_TIMEOUT = 20.0


def _wait_processed(event_id, worker, timeout: float = PROCESS_TIMEOUT) -> Event:
    """Poll the committed row until the worker has set processed_at (or fail with its log)."""
    deadline = time.monotonic() + timeout
    while True:
        event = Event.objects.get(pk=event_id)
        if event.processed_at is not None:
            return event
        if not worker.alive():
            pytest.fail(f"celery worker died (exit {worker.process.returncode}):\n{worker.log_tail()}")
        if time.monotonic() > deadline:
            pytest.fail(
                f"event {event_id} not processed by the live worker in {timeout:.0f}s "
                f"(attempts={event.attempts}, last_error={event.last_error!r}):\n{worker.log_tail()}"
            )
        time.sleep(0.2)


class _BrokerDown:
    """Stands in for the `event_process` task while the broker is unreachable."""

    def delay(self, *args, **kwargs):
        raise OperationalError("Error 111 connecting to 127.0.0.1:6379. Connection refused.")


def _person_renamed(name: str) -> Event:
    """A service write whose event has handlers (`user.updated`: derived access), so it is queued;
    an event no handler listens to is written processed and never reaches a worker."""
    person = user_create(display_name="Live worker person")
    user_update(user=person, display_name=name, actor=SYSTEM)
    return Event.objects.get(event_name="user.updated", user_id=person.pk)


def test_service_event_is_processed_by_live_worker(celery_worker_process):
    event = _person_renamed("Live worker person, renamed")
    processed = _wait_processed(event.pk, celery_worker_process)

    assert processed.processed_at is not None
    assert processed.processed_at >= processed.created_at
    assert processed.attempts == 1
    assert processed.last_error == ""
    assert "Task apps.events.tasks.event_process[" in celery_worker_process.log_tail(200)


def test_sweep_resends_event_whose_enqueue_was_lost(celery_worker_process, monkeypatch, caplog):
    # The broker is down when the service commits: the on-commit enqueue fails and is logged.
    monkeypatch.setattr(tasks, "event_process", _BrokerDown())
    with caplog.at_level(logging.WARNING, logger="keyhouse.events"):
        event = _person_renamed("Lost enqueue")
    monkeypatch.undo()
    assert any("could not enqueue event" in r.getMessage() and str(event.pk) in r.getMessage() for r in caplog.records)

    # Nothing reached the worker, so the row stays unprocessed.
    time.sleep(1.0)
    event.refresh_from_db()
    assert event.processed_at is None
    assert event.attempts == 0

    # A fresh row is left to its own on-commit enqueue: the sweep does not touch it yet.
    assert services.events_sweep() == 0

    # Once older than the sweep's grace period, the sweep re-sends it and the live worker runs it.
    old = timezone.now() - services.SWEEP_GRACE - timedelta(seconds=5)
    Event.objects.filter(pk=event.pk).update(created_at=old)
    assert services.events_sweep() == 1

    processed = _wait_processed(event.pk, celery_worker_process)
    assert processed.attempts == 1
    assert processed.last_error == ""


def test_beat_sweep_task_through_the_broker(celery_worker_process, monkeypatch):
    """The beat entry point itself (`tasks.events_sweep`), sent through Redis and run by the worker."""
    monkeypatch.setattr(services, "_enqueue", lambda event_id: None)  # the on-commit enqueue is lost
    with transaction.atomic():
        person = user_create(display_name="Live sweep")
        event = services.event_append(event_name="user.updated", actor=SYSTEM, user_id=person.pk)
    monkeypatch.undo()
    old = timezone.now() - services.SWEEP_GRACE - timedelta(seconds=5)
    Event.objects.filter(pk=event.pk).update(created_at=old)

    tasks.events_sweep.delay()

    processed = _wait_processed(event.pk, celery_worker_process)
    assert processed.attempts == 1
    log = celery_worker_process.log_tail(200)
    assert "Task apps.events.tasks.events_sweep[" in log


def test_healthz_reports_broker_ok_with_redis(redis_broker, client):
    response = client.get("/healthz")

    assert response.status_code == 200, response.content
    assert response.json() == {"status": "ok", "database": "ok", "broker": "ok"}


def test_healthz_is_503_when_redis_is_unreachable(redis_broker, client, settings):
    # Nothing listens on port 1: connection refused at once. The override reaches both
    # settings.CELERY_BROKER_URL and the Celery app's conf.broker_url (read live from settings).
    settings.CELERY_BROKER_URL = "redis://127.0.0.1:1/0"

    response = client.get("/healthz")

    assert response.status_code == 503, response.content
    assert response.json() == {"status": "down", "database": "ok", "broker": "down"}
