from django.db import models


class LockAccessLogResult(models.TextChoices):
    """What the lock did (PROTOCOL.md §6.5)."""

    GRANTED = "granted"
    DENIED = "denied"


class LockUninstallMode(models.TextChoices):
    """Spec `uninstallMode` of uninstallLock (default `area`)."""

    AREA = "area"  # off its door, stays in the property
    PROPERTY = "property"  # out of the property too
    OWNER = "owner"  # and forget its owner
