"""The transactional outbox: one Event row per domain write, processed after commit."""

from django.db import models

from apps.core.models import Entity


class EventQuerySet(models.QuerySet):
    def unprocessed(self):
        return self.filter(processed_at__isnull=True)


class Event(Entity):
    """Spec Event (eventName + optional entity ids) plus outbox processing state.

    The entity ids are plain UUIDs, not foreign keys: the log outlives what it describes.
    """

    event_name = models.CharField(max_length=64, db_index=True, help_text="e.g. property.created")
    event_source = models.CharField(max_length=32, db_index=True, help_text="Entity kind: the name before the dot.")
    property_id = models.UUIDField(null=True, blank=True, db_index=True)
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

    objects = EventQuerySet.as_manager()

    class Meta:
        ordering = ["id"]
        indexes = [models.Index(fields=["processed_at", "created_at"], name="event_unprocessed_idx")]

    def __str__(self) -> str:
        return f"{self.event_name} {self.id}"
