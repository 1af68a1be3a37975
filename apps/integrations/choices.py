from django.db import models


class IntegrationAccountKind(models.TextChoices):
    """The remote systems Keyhouse mirrors; each has a package `apps/integrations/<kind>/`."""

    LOCKT = "lockt", "Lockt SecureAccess"
    SMARTPHONEKEY = "smartphonekey", "SmartphoneKey"
    PARQEX = "parqex", "ParqEx"


class IntegrationAccountStatus(models.TextChoices):
    """docs/INTEGRATIONS.md "Statuses"."""

    OK = "ok", "OK"
    BACKING_OFF = "backing_off", "Backing off"
    NEEDS_REAUTH = "needs_reauth", "Needs new credentials"
    DISABLED = "disabled", "Disabled"


class SyncRunStatus(models.TextChoices):
    RUNNING = "running", "Running"
    SUCCEEDED = "succeeded", "Succeeded"
    FAILED = "failed", "Failed"
