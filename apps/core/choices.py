from django.db import models


class EntityTypeState(models.TextChoices):
    """Spec LucilleBase.typeState."""

    ACTIVE = "active"
    INACTIVE = "inactive"
    DELETED = "deleted"


class ExternalRefSyncDirection(models.TextChoices):
    FROM_EXTERNAL_TO_INTERNAL = "fromExternalToInternal"
    FROM_INTERNAL_TO_EXTERNAL = "fromInternalToExternal"


class ExternalRefSyncStatus(models.TextChoices):
    DISABLED = "disabled"
    PENDING = "pending"
    FAILED = "failed"
    SYNCED = "synced"
