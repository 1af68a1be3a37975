"""User groups (spec UserGroup) and membership."""

from django.conf import settings
from django.contrib.contenttypes.fields import GenericRelation
from django.db import models

from apps.core.ids import uuid7
from apps.core.models import Entity


class UserGroupGroupSource(models.TextChoices):
    PROPERTY = "property"  # created with the property; deleted with it
    AREA = "area"  # an area's own group; deleted with the area
    CUSTOM = "custom"  # made by a manager


class UserGroupGroupType(models.TextChoices):
    RESIDENT = "resident"
    COMMON = "common"
    STAFF = "staff"


class UserGroup(Entity):
    """Spec UserGroup: people who get access together."""

    external_refs = GenericRelation("core.ExternalRef", related_query_name="usergroup")

    property = models.ForeignKey("properties.Property", on_delete=models.PROTECT, related_name="user_groups")
    area = models.OneToOneField(
        "areas.Area", null=True, blank=True, on_delete=models.PROTECT, related_name="area_user_group"
    )
    display_name = models.CharField(max_length=200)
    group_source = models.CharField(max_length=16, choices=UserGroupGroupSource.choices)
    group_type = models.CharField(max_length=16, choices=UserGroupGroupType.choices)
    members = models.ManyToManyField(settings.AUTH_USER_MODEL, through="Membership", related_name="user_groups")

    class Meta(Entity.Meta):
        indexes = [models.Index(fields=["property", "id"], name="usergroup_property_id_idx")]

    def __str__(self) -> str:
        return self.display_name


class Membership(models.Model):
    """A user in a group (hard rows: removing a member deletes the row, the event remains)."""

    id = models.UUIDField(primary_key=True, default=uuid7, editable=False)
    user_group = models.ForeignKey(UserGroup, on_delete=models.CASCADE, related_name="memberships")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="memberships")
    created_at = models.DateTimeField(auto_now_add=True)
    created_by = models.CharField(max_length=120, default="system")

    class Meta:
        ordering = ["id"]
        constraints = [models.UniqueConstraint(fields=["user_group", "user"], name="membership_unique")]
        indexes = [models.Index(fields=["user", "user_group"], name="membership_user_idx")]
