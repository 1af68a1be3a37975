"""The outbox: event_append in the service transaction, processing after commit, sweep."""

import datetime as dt

import pytest
from django.db import transaction
from django.utils import timezone

from apps.accounts.models import ApiKey
from apps.core.principal import Grant
from apps.events import registry
from apps.events.models import Event
from apps.events.services import event_append, event_process, events_sweep
from tests.factories.accounts import api_key_with

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _eager(settings):
    """These tests are about the outbox itself: run tasks inline even where REDIS_URL is set
    (the live-worker tests in test_worker_live.py cover the real broker)."""
    settings.CELERY_TASK_ALWAYS_EAGER = True


@pytest.fixture
def handled(monkeypatch):
    """Register a handler for `test.thing` that records the events it saw."""
    seen = []
    monkeypatch.setattr(registry, "_HANDLERS", {"test.thing": [seen.append]})
    return seen


def _append(**kwargs):
    with transaction.atomic():
        return event_append(event_name="test.thing", actor="system", **kwargs)


@pytest.mark.django_db(transaction=True)
def test_event_append_outside_a_transaction_is_a_bug():
    with pytest.raises(RuntimeError, match="inside the service's transaction"):
        event_append(event_name="test.thing", actor="system")


def test_events_are_processed_after_commit(django_capture_on_commit_callbacks, handled):
    with django_capture_on_commit_callbacks(execute=True):
        event = _append(property_id=None)
    event.refresh_from_db()
    assert handled == [event]
    assert event.processed_at is not None and event.attempts == 1
    assert event.event_source == "test"


def test_nothing_is_enqueued_when_the_transaction_rolls_back(django_capture_on_commit_callbacks, handled):
    with (
        django_capture_on_commit_callbacks(execute=True) as callbacks,
        pytest.raises(ValueError),
        transaction.atomic(),
    ):
        event_append(event_name="test.thing", actor="system")
        raise ValueError("service failed later")
    assert callbacks == [] and Event.objects.count() == 0 and handled == []


def test_processing_is_idempotent(handled):
    event = _append()
    event_process(event_id=event.pk)
    event_process(event_id=event.pk)
    assert len(handled) == 1
    event_process(event_id=event.pk, force=True)
    assert len(handled) == 2


def test_a_failing_handler_rolls_back_its_writes_and_is_recorded(monkeypatch):
    def half_done(event):
        api_key_with("support", name="written by the handler")
        raise ValueError("remote cloud said no")

    monkeypatch.setattr(registry, "_HANDLERS", {"test.thing": [half_done]})
    event = _append()
    event_process(event_id=event.pk)
    event.refresh_from_db()
    assert event.processed_at is None and event.attempts == 1
    assert "remote cloud said no" in event.last_error
    assert not ApiKey.objects.filter(display_name="written by the handler").exists()


def test_a_down_broker_loses_nothing_and_the_sweep_sends_it_later(
    monkeypatch, django_capture_on_commit_callbacks, handled
):
    from apps.events import tasks

    def broker_down(*args, **kwargs):
        raise ConnectionError("redis unreachable")

    monkeypatch.setattr(tasks.event_process, "delay", broker_down)
    with django_capture_on_commit_callbacks(execute=True):
        event = _append()  # the write commits even though enqueueing fails
    assert Event.objects.get(pk=event.pk).processed_at is None

    monkeypatch.undo()
    monkeypatch.setattr(registry, "_HANDLERS", {"test.thing": [handled.append]})
    assert events_sweep() == 0  # too fresh: its own enqueue may still be on the way
    Event.objects.filter(pk=event.pk).update(created_at=timezone.now() - dt.timedelta(minutes=5))
    assert events_sweep() == 1
    assert Event.objects.get(pk=event.pk).processed_at is not None


def test_services_record_the_actor_and_ids():
    api_key, _ = api_key_with(Grant("owner"))
    event = Event.objects.get(event_name="api_key.created")
    assert event.api_key_id == api_key.pk
    assert event.last_modified_by == "system"
    assert event.payload == {"displayName": "test key", "permissions": ["owner"]}
