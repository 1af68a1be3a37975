from django.db import models

from apps.core.operations import GRANTABLE_PERMISSIONS


class PermissionGrantPermission(models.TextChoices):
    """Spec UserPermission.permission."""

    ME = "me"
    OWNER = "owner"
    PROVISION_LOCK = "provision-lock"
    INSTALL_LOCK = "install-lock"
    MANAGE_ACCESS = "manage-access"
    MANAGE_FIRMWARE = "manage-firmware"
    SUPPORT = "support"


assert set(PermissionGrantPermission.values) == set(GRANTABLE_PERMISSIONS)


class SignInCodePurpose(models.TextChoices):
    """What a one-time code emailed to a person proves."""

    SIGN_IN = "sign_in", "sign in"
    EMAIL_CHANGE = "email_change", "confirm a new sign-in email"
