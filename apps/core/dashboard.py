"""The staff dashboard's figures. Top floor (docs/ARCHITECTURE.md): it reads every app, so it
lives beside the admin site, not among core's HTTP-free modules on the ground floor."""

from django.urls import reverse

from apps.accounts.models import ApiKey, User
from apps.areas.models import Area
from apps.events.models import Event
from apps.properties.models import Property


def dashboard_figures() -> list[tuple[str, int, str]]:
    """(label, count, admin changelist url) for the dashboard; apps add theirs as they land."""
    events_url = reverse("admin:events_event_changelist")
    return [
        ("Properties", Property.objects.alive().count(), reverse("admin:properties_property_changelist")),
        ("Areas", Area.objects.alive().count(), reverse("admin:areas_area_changelist")),
        ("Users", User.objects.alive().count(), reverse("admin:accounts_user_changelist")),
        (
            "Active API keys",
            ApiKey.objects.alive().filter(revoked_at__isnull=True).count(),
            reverse("admin:accounts_apikey_changelist"),
        ),
        (
            "Events waiting to be processed",
            Event.objects.unprocessed().count(),
            f"{events_url}?processed_at__isempty=1",
        ),
    ]
