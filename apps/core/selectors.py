"""Reads that span apps, for the staff dashboard."""

from django.apps import apps


def dashboard_figures() -> list[tuple[str, int, str]]:
    """(label, count, admin changelist url) for the dashboard; apps add theirs as they land."""
    from django.urls import reverse

    Event = apps.get_model("events", "Event")
    ApiKey = apps.get_model("accounts", "ApiKey")
    User = apps.get_model("accounts", "User")
    events_url = reverse("admin:events_event_changelist")
    Property = apps.get_model("properties", "Property")
    Area = apps.get_model("areas", "Area")
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
