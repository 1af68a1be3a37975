"""Guest passes ending within 24 hours, for the admin dashboard (apps.core.attention)."""

from datetime import timedelta
from zoneinfo import ZoneInfo

from django.urls import reverse
from django.utils import timezone

from apps.access.models import AccessGrant, AccessLevel
from apps.core.attention import AttentionItem, attention_register

ENDING_WITHIN = timedelta(hours=24)


def guest_grants_ending(property_ids) -> list[AttentionItem]:
    now = timezone.now()
    grants = AccessGrant.objects.alive().filter(
        access_level=AccessLevel.GUEST,
        revoked_at__isnull=True,
        expired_at__isnull=True,
        valid_until__gt=now,
        valid_until__lte=now + ENDING_WITHIN,
    )
    if property_ids is not None:
        grants = grants.filter(property_id__in=property_ids)
    items = []
    for grant in grants.select_related("user", "lock", "area", "property").order_by("valid_until")[:50]:
        target = grant.lock or grant.area
        tz = ZoneInfo(grant.property.time_zone)
        ends = grant.valid_until.astimezone(tz).strftime("%a %H:%M")
        who = grant.user.display_name or grant.user.email
        items.append(
            AttentionItem(
                f"{who}: guest pass on {target.display_name} ends {ends} ({tz.key})",
                reverse("admin:access_accessgrant_change", args=[grant.pk]),
                grant.property_id,
            )
        )
    return items


def register() -> None:
    attention_register(
        "access.guest_grants_ending", title="Guest passes ending within 24 h", provider=guest_grants_ending, order=30
    )
