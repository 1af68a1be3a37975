"""Spec Area: a place inside a property (unit, floor, lobby, garage), nested in a tree."""

from django.contrib.contenttypes.fields import GenericRelation
from django.db import models

from apps.core.models import Entity


class AreaAreaType(models.TextChoices):
    RESIDENT = "resident"
    COMMON = "common"
    STAFF = "staff"


class Area(Entity):
    """An area and its place in the tree.

    `ancestor_ids` stores every containing area, nearest first (spec `containingAreaIds`);
    the services keep it right on create and move, so reads need no recursive query.
    `access_list` holds spec AccessListEntry objects; `access_list_version` rises only when
    that content changes (its meaning comes with the access model).
    """

    external_refs = GenericRelation("core.ExternalRef", related_query_name="area")

    property = models.ForeignKey("properties.Property", on_delete=models.PROTECT, related_name="areas")
    parent = models.ForeignKey("self", null=True, blank=True, on_delete=models.PROTECT, related_name="children")
    display_name = models.CharField(max_length=200)
    area_type = models.CharField(max_length=16, choices=AreaAreaType.choices)
    ancestor_ids = models.JSONField(default=list, blank=True, editable=False)
    depth = models.PositiveSmallIntegerField(default=0, editable=False)
    access_list = models.JSONField(default=list, blank=True)
    access_list_version = models.PositiveIntegerField(default=1)

    class Meta(Entity.Meta):
        indexes = [models.Index(fields=["property", "id"], name="area_property_id_idx")]

    def __str__(self) -> str:
        return self.display_name
