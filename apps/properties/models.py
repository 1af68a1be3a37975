"""Spec Property: a building or site under one owner."""

from django.conf import settings
from django.contrib.contenttypes.fields import GenericRelation
from django.db import models

from apps.core.models import Entity
from apps.core.validators import validate_address, validate_time_zone


class Property(Entity):
    """Spec Property. `timeZone` anchors every schedule of the property."""

    external_refs = GenericRelation("core.ExternalRef", related_query_name="property")

    display_name = models.CharField(max_length=200)
    address = models.JSONField(validators=[validate_address])
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="owned_properties"
    )
    access_managers = models.ManyToManyField(settings.AUTH_USER_MODEL, blank=True, related_name="managed_properties")
    time_zone = models.CharField(max_length=64, default="UTC", validators=[validate_time_zone])

    class Meta(Entity.Meta):
        verbose_name_plural = "properties"

    def __str__(self) -> str:
        return self.display_name
