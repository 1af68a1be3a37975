from django.db import models


class UserDeviceDeviceType(models.TextChoices):
    """Spec ProvisionUserDeviceInput.deviceType."""

    IOS = "iOS"
    ANDROID = "Android"
