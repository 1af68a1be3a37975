"""Integration accounts that are failing, for the admin dashboard (apps.core.attention)."""

from django.urls import reverse

from apps.core.attention import AttentionItem, attention_register
from apps.integrations.choices import IntegrationAccountStatus
from apps.integrations.models import IntegrationAccount


def failing_accounts(property_ids) -> list[AttentionItem]:
    accounts = IntegrationAccount.objects.alive().exclude(status=IntegrationAccountStatus.OK)
    if property_ids is not None:
        accounts = accounts.filter(property_id__in=property_ids)
    items = []
    for account in accounts.order_by("display_name"):
        error = (account.last_error or "").strip().splitlines()[0][:160] if account.last_error else ""
        items.append(
            AttentionItem(
                f"{account.display_name} ({account.get_kind_display()}): {account.get_status_display().lower()}"
                + (f", {account.consecutive_failures} failures in a row" if account.consecutive_failures else "")
                + (f": {error}" if error else ""),
                reverse("admin:integrations_integrationaccount_change", args=[account.pk]),
                account.property_id,
            )
        )
    return items


def register() -> None:
    attention_register(
        "integrations.failing", title="Integration accounts failing", provider=failing_accounts, order=50
    )
