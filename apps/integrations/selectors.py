"""Reads of integration accounts and their runs, scoped to the caller's properties."""

from django.db.models import QuerySet
from django.utils import timezone

from apps.core.choices import EntityTypeState
from apps.core.principal import ALL
from apps.integrations.choices import IntegrationAccountStatus
from apps.integrations.models import IntegrationAccount, SyncRun

POLLED_STATUSES = (IntegrationAccountStatus.OK, IntegrationAccountStatus.BACKING_OFF)


def integration_account_list(*, property_ids=ALL, kind: str | None = None) -> QuerySet[IntegrationAccount]:
    """Accounts of live properties in `property_ids` (ALL: every one), with their property."""
    accounts = IntegrationAccount.objects.exclude(property__type_state=EntityTypeState.DELETED).select_related(
        "property"
    )
    if property_ids is not ALL:
        accounts = accounts.filter(property_id__in=property_ids)
    if kind is not None:
        accounts = accounts.filter(kind=kind)
    return accounts.order_by("id")


def integration_account_get(*, account_id, property_ids=ALL) -> IntegrationAccount | None:
    return integration_account_list(property_ids=property_ids).filter(pk=account_id).first()


def integration_accounts_due(*, now=None) -> QuerySet[IntegrationAccount]:
    """Accounts the dispatcher should poll now: healthy or backing off, and their time has come."""
    now = now or timezone.now()
    return (
        integration_account_list()
        .filter(status__in=POLLED_STATUSES, next_attempt_at__lte=now)
        .order_by("next_attempt_at")
    )


def sync_run_list(*, account) -> QuerySet[SyncRun]:
    """An account's runs, newest first."""
    return SyncRun.objects.filter(account=account).order_by("-started_at", "-id")


def sync_run_latest(*, account) -> SyncRun | None:
    return sync_run_list(account=account).first()


def integration_credentials_remaining_by_kek(current_id: int) -> dict[int, int]:
    """Accounts whose credentials are not under the current KEK, by kekId (manage.py rotate_kek)."""
    remaining: dict[int, int] = {}
    for kek_id in IntegrationAccount.objects.exclude(kek_id=current_id).values_list("kek_id", flat=True):
        remaining[kek_id] = remaining.get(kek_id, 0) + 1
    return remaining


def smartphonekey_push_list(*, account):
    """An account's grant pushes (grant × this account), with their grants."""
    from apps.integrations.models import SmartphoneKeyPush

    return SmartphoneKeyPush.objects.filter(account=account).select_related("grant")
