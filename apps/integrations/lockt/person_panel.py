"""The Lockt credentials and fobs a person holds, on the admin's person page
(apps.core.person_panels; docs/ADMIN.md "The person page")."""

from zoneinfo import ZoneInfo

from apps.core.person_panels import PersonPanel, person_panel_register
from apps.integrations.models import LocktCredential

COLUMNS = ("Lockt account", "Kind", "Name", "Card", "Claim", "Valid from", "Valid until", "Sync")


def _local(value, zone: str) -> str:
    return value.astimezone(ZoneInfo(zone)).strftime("%a %d %b %Y %H:%M") if value else "—"


def lockt_credentials_panel(user, property_ids) -> PersonPanel | None:
    credentials = (
        LocktCredential.objects.filter(holder=user, record__account__property_id__in=property_ids)
        .select_related("record__account__property")
        .order_by("record__account__display_name", "name")
    )
    rows = []
    for credential in credentials:
        account = credential.record.account
        zone = account.property.time_zone or "UTC"
        rows.append(
            (
                account.display_name,
                "Fob" if credential.fob else "Credential",
                credential.name or f"Lockt id {credential.record.external_id}",
                credential.card_masked or "—",
                credential.get_claim_status_display(),
                _local(credential.valid_from, zone),
                _local(credential.valid_until, zone),
                credential.record.get_status_display()
                + (" · reassignment waiting for the next push" if credential.reassign_pending else ""),
            )
        )
    if not rows:
        return None
    return PersonPanel(
        title="Lockt credentials and fobs",
        columns=COLUMNS,
        rows=rows,
        help="Read-only: managed in Lockt. Card numbers show their last 4 digits only.",
    )


def register() -> None:
    person_panel_register("integrations.lockt_credentials", provider=lockt_credentials_panel, order=10)
