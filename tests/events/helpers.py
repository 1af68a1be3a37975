"""Test helpers for the outbox: append events directly, and a handler that fails on demand."""

import datetime as dt

from django.db import transaction
from django.utils import timezone

from apps.core.actors import SYSTEM
from apps.events.models import Event
from apps.events.services import event_append

FLAKY = "test_events.flaky"  # a test-only event name; its source `test_events` is not declared


def event_add(event_name: str = "test_events.thing", *, actor: str = SYSTEM, **refs) -> Event:
    """One event, appended by the real service. Under pytest-django's per-test transaction the
    on-commit enqueue never fires, so the event stays unprocessed until a test processes it."""
    with transaction.atomic():
        return event_append(event_name=event_name, actor=actor, **refs)


def make_due(event: Event) -> None:
    """Pretend the retry time has come (instead of waiting for it)."""
    Event.objects.filter(pk=event.pk).update(next_attempt_at=timezone.now() - dt.timedelta(seconds=1))


def make_old(event: Event, *, minutes: int = 5) -> None:
    """Pretend the event was appended `minutes` ago (older than the sweep's grace period)."""
    Event.objects.filter(pk=event.pk).update(created_at=timezone.now() - dt.timedelta(minutes=minutes))


class FlakyHandler:
    """Fails `failures` times (RuntimeError), then succeeds. Idempotent: its effect is
    `state[event_id] = payload`, so running it again for the same event changes nothing."""

    def __init__(self):
        self.failures = 0
        self.calls = 0
        self.state: dict = {}

    def __call__(self, event):
        self.calls += 1
        if self.failures:
            self.failures -= 1
            raise RuntimeError(f"remote lock cloud unreachable (call {self.calls})")
        self.state[event.pk] = dict(event.payload)
