"""Spec Lock: a door lock, provisioned into a property and installed into one area.

This issue-5 slice holds what the access model needs (where a lock is). Keys, the lock's
own credential, sync state and access logs arrive with the keys/protocol work.
"""

from django.conf import settings
from django.contrib.contenttypes.fields import GenericRelation
from django.db import models

from apps.core.models import Entity


class Lock(Entity):
    external_refs = GenericRelation("core.ExternalRef", related_query_name="lock")

    display_name = models.CharField(max_length=200)
    property = models.ForeignKey(
        "properties.Property", null=True, blank=True, on_delete=models.PROTECT, related_name="locks"
    )
    area = models.ForeignKey("areas.Area", null=True, blank=True, on_delete=models.PROTECT, related_name="locks")
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="owned_locks"
    )
    purchase_date = models.DateTimeField(null=True, blank=True)
    install_date = models.DateTimeField(null=True, blank=True)
    current_firmware_version = models.CharField(max_length=64, blank=True, default="")

    class Meta(Entity.Meta):
        indexes = [
            models.Index(fields=["property", "id"], name="lock_property_id_idx"),
            models.Index(fields=["area"], name="lock_area_idx"),
        ]

    def __str__(self) -> str:
        return self.display_name
