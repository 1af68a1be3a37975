"""Events failing processing, for the admin dashboard (apps.core.attention)."""

from django.urls import reverse

from apps.core.attention import AttentionItem, attention_register
from apps.events.models import Event


def failing_events(property_ids) -> list[AttentionItem]:
    events = Event.objects.failing()
    if property_ids is not None:
        events = events.filter(property_id__in=property_ids)
    items = []
    for event in events.order_by("created_at")[:50]:
        error = (event.last_error or "no error recorded").strip().splitlines()[0][:160]
        items.append(
            AttentionItem(
                f"{event.event_name}: {event.attempts} attempts failed, last: {error}",
                reverse("admin:events_event_change", args=[event.pk]),
                event.property_id,
            )
        )
    return items


def register() -> None:
    attention_register("events.failing", title="Events failing processing", provider=failing_events, order=20)
