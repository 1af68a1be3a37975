from django.db import models


class UserDeviceDeviceType(models.TextChoices):
    """Spec ProvisionUserDeviceInput.deviceType."""

    IOS = "iOS", "iOS"  # labels spelt as the platforms spell themselves (the default would say "Ios")
    ANDROID = "Android", "Android"
