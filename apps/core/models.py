"""Base model fields shared by every spec entity, and ExternalRef (spec §6)."""

from django.contrib.contenttypes.fields import GenericForeignKey
from django.contrib.contenttypes.models import ContentType
from django.db import models

from apps.core.choices import EntityTypeState, ExternalRefSyncDirection, ExternalRefSyncStatus
from apps.core.ids import uuid7


class EntityQuerySet(models.QuerySet):
    def alive(self):
        """Rows that are not soft-deleted (typeState != deleted)."""
        return self.exclude(type_state=EntityTypeState.DELETED)


class Entity(models.Model):
    """Spec LucilleBase: UUIDv7 id, `type`, `typeState`, `createdAt`, `lastModifiedAt`, `lastModifiedBy`.

    `type` is not stored: it is the entity's kind (`entity_type`, the model name by default).
    `last_modified_by` is the actor label of the principal that wrote last (see core.actors).
    """

    id = models.UUIDField(primary_key=True, default=uuid7, editable=False)
    type_state = models.CharField(max_length=16, choices=EntityTypeState.choices, default=EntityTypeState.ACTIVE)
    created_at = models.DateTimeField(auto_now_add=True)
    last_modified_at = models.DateTimeField(auto_now=True)
    last_modified_by = models.CharField(max_length=120, default="system")

    objects = EntityQuerySet.as_manager()

    class Meta:
        abstract = True
        ordering = ["id"]

    @property
    def entity_type(self) -> str:
        """Spec `type`: the entity kind in camelCase (`apiKey`, `userGroup`)."""
        name = type(self).__name__
        return name[:1].lower() + name[1:]


class ExternalRef(models.Model):
    """A link from any Keyhouse entity to its record in an external system (spec ExternalRef).

    `account_id` names the integration account (apps.integrations.IntegrationAccount) that owns
    the link. It is a plain UUID, not a foreign key: core sits on the ground floor and never
    refers to a higher app (docs/ARCHITECTURE.md); integrations deletes an account's links with
    the account. The same remote id may exist in two accounts of one system (two Lockt clouds),
    so with an account an external id is unique per (account, kind of entity); a link without
    an account keeps the older rule, unique per source (docs/INTEGRATIONS.md "Links").
    """

    id = models.UUIDField(primary_key=True, default=uuid7, editable=False)
    content_type = models.ForeignKey(ContentType, on_delete=models.CASCADE)
    object_id = models.UUIDField()
    entity = GenericForeignKey("content_type", "object_id")
    source = models.CharField(max_length=64, help_text="External system, e.g. 'lockt'.")
    account_id = models.UUIDField(
        null=True, blank=True, help_text="The integration account that owns this link (no FK: core is below it)."
    )
    external_id = models.CharField(max_length=255, help_text="The record's id in the external system.")
    sync_direction = models.CharField(max_length=32, choices=ExternalRefSyncDirection.choices)
    sync_status = models.CharField(
        max_length=16, choices=ExternalRefSyncStatus.choices, default=ExternalRefSyncStatus.PENDING
    )
    sync_schedule = models.CharField(max_length=64, blank=True, default="")
    last_sync_date = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["id"]
        indexes = [models.Index(fields=["content_type", "object_id"])]
        constraints = [
            # Links of an account: one per entity, and one entity per remote id (leads with
            # account_id, so "this account's links" reads the same index).
            models.UniqueConstraint(
                fields=["account_id", "content_type", "object_id"],
                condition=models.Q(account_id__isnull=False),
                name="externalref_one_per_account",
            ),
            models.UniqueConstraint(
                fields=["account_id", "content_type", "external_id"],
                condition=models.Q(account_id__isnull=False),
                name="externalref_unique_external_per_account",
            ),
            # Links without an account: the rule per source, as before.
            models.UniqueConstraint(
                fields=["content_type", "object_id", "source"],
                condition=models.Q(account_id__isnull=True),
                name="externalref_one_per_source",
            ),
            models.UniqueConstraint(
                fields=["content_type", "source", "external_id"],
                condition=models.Q(account_id__isnull=True),
                name="externalref_unique_external",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.source}:{self.external_id}"

    @classmethod
    def for_entity(cls, entity: models.Model):
        return cls.objects.filter(content_type=ContentType.objects.get_for_model(entity), object_id=entity.pk)


class IdempotencyRecord(models.Model):
    """A stored API response for an `Idempotency-Key` (see core.api.idempotency)."""

    id = models.UUIDField(primary_key=True, default=uuid7, editable=False)
    key = models.CharField(max_length=255)
    credential_digest = models.CharField(max_length=64, help_text="Keyed hash of the caller's credential.")
    request_digest = models.CharField(max_length=64, help_text="Hash of method, path and body.")
    status_code = models.PositiveSmallIntegerField(null=True, blank=True)
    response_body = models.BinaryField(null=True, blank=True)
    content_type = models.CharField(max_length=100, blank=True, default="")
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["credential_digest", "key"], name="idempotency_unique_key_per_caller")
        ]
