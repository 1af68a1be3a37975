from django.db import models


class FirmwareVersionDeviceType(models.TextChoices):
    """Spec FirmwareVersion.deviceType."""

    LOCK = "Lock"


class FirmwareAssignmentScope(models.TextChoices):
    """Spec FirmwareVersionScope.scope, in precedence order (the first that applies wins)."""

    LOCK = "lock"
    AREA = "area"
    PROPERTY = "property"
    GLOBAL = "global"
