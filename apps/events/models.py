"""The transactional outbox: one Event row per domain write, processed after commit."""

from datetime import datetime

from django.db import models
from django.db.models import Q

from apps.core.models import Entity
from apps.events.constants import FAILING_AFTER_ATTEMPTS, SWEEP_GRACE

# The entity ids an event may carry; each is a filter of listEvents, backed by a partial index.
REF_FIELDS = ("property_id", "area_id", "user_group_id", "user_id", "lock_id", "key_id", "api_key_id")


class EventQuerySet(models.QuerySet):
    def unprocessed(self):
        return self.filter(processed_at__isnull=True)

    def failing(self):
        """Unprocessed after FAILING_AFTER_ATTEMPTS attempts: still retried, but needs a look."""
        return self.filter(failing_q())

    def due(self, *, now: datetime):
        """What the sweep enqueues: unprocessed rows whose retry time has come, and rows never
        tried that are older than the grace period (their on-commit enqueue was lost)."""
        return self.unprocessed().filter(
            Q(next_attempt_at__lte=now) | Q(next_attempt_at__isnull=True, created_at__lt=now - SWEEP_GRACE)
        )


def _ref_index(field: str) -> models.Index:
    return models.Index(
        fields=[field, "id"], name=f"event_{field[:-3]}_idx", condition=Q(**{f"{field}__isnull": False})
    )


def failing_q() -> Q:
    return Q(processed_at__isnull=True, attempts__gte=FAILING_AFTER_ATTEMPTS)


class Event(Entity):
    """Spec Event (eventName + optional entity ids) plus outbox processing state.

    The entity ids are plain UUIDs, not foreign keys: the log outlives what it describes.
    Processing state: `attempts` counts runs (successful or not); `last_error` is the error of
    the latest run ("" after a success); `next_attempt_at` is when an unprocessed row that
    failed is retried (null when never tried, or processed).
    """

    event_name = models.CharField(max_length=64, help_text="e.g. property.created")
    event_source = models.CharField(max_length=32, help_text="Entity kind: the name before the dot.")
    property_id = models.UUIDField(null=True, blank=True)
    area_id = models.UUIDField(null=True, blank=True)
    user_group_id = models.UUIDField(null=True, blank=True)
    user_id = models.UUIDField(null=True, blank=True)
    user_device_id = models.UUIDField(null=True, blank=True)
    lock_id = models.UUIDField(null=True, blank=True)
    key_id = models.UUIDField(null=True, blank=True)
    api_key_id = models.UUIDField(null=True, blank=True)
    firmware_version = models.CharField(max_length=64, blank=True, default="")
    payload = models.JSONField(default=dict, blank=True, help_text="What changed; never secrets.")

    processed_at = models.DateTimeField(null=True, blank=True)
    attempts = models.PositiveIntegerField(default=0)
    last_error = models.TextField(blank=True, default="")
    next_attempt_at = models.DateTimeField(null=True, blank=True, help_text="When a failed event is retried.")

    objects = EventQuerySet.as_manager()

    class Meta:
        ordering = ["id"]
        indexes = [
            models.Index(fields=["processed_at", "created_at"], name="event_unprocessed_idx"),
            # The sweep's retry lookup touches only the (few) unprocessed rows.
            models.Index(fields=["next_attempt_at"], name="event_retry_idx", condition=Q(processed_at__isnull=True)),
            # listEvents pages by id within a filter (newest first): (filter, id) serves
            # `WHERE x = ? AND id < cursor ORDER BY id DESC LIMIT n` from the index alone.
            # Partial, so the many rows without that id cost nothing.
            models.Index(fields=["event_source", "id"], name="event_source_id_idx"),
            models.Index(fields=["event_name", "id"], name="event_name_id_idx"),
            *(_ref_index(field) for field in REF_FIELDS),
        ]

    def __str__(self) -> str:
        return f"{self.event_name} {self.id}"

    @property
    def is_failing(self) -> bool:
        return self.processed_at is None and self.attempts >= FAILING_AFTER_ATTEMPTS
