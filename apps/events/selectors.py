"""Reads for the event log (listEvents, triggerEventProcessing, the admin)."""

from uuid import UUID

from django.core.cache import cache
from django.db.models import QuerySet

from apps.core.principal import ALL
from apps.events.models import Event
from apps.events.registry import event_sources

_SEEN_SOURCES_CACHE = "events:seen-sources"
_SEEN_SOURCES_TTL = 60


def event_list(*, property_ids=ALL) -> QuerySet[Event]:
    """Events the caller may see: all (`ALL`), or those of the given properties only.
    Events without a property (users, API keys) are visible to unscoped callers only."""
    events = Event.objects.all()
    if property_ids is not ALL:
        events = events.filter(property_id__in=property_ids)
    return events


def event_get(*, event_id: UUID, property_ids=ALL) -> Event | None:
    return event_list(property_ids=property_ids).filter(pk=event_id).first()


def event_source_known(source: str) -> bool:
    """True for a declared source (no query) or one already in the log (cached for a minute)."""
    return source in event_sources() or source in _seen_sources()


def event_source_list() -> list[str]:
    """Every eventSource a client may filter on: declared ones and any already in the log."""
    return sorted(event_sources() | set(_seen_sources()))


def _seen_sources() -> list[str]:
    seen = cache.get(_SEEN_SOURCES_CACHE)
    if seen is None:
        seen = list(Event.objects.order_by().values_list("event_source", flat=True).distinct())
        cache.set(_SEEN_SOURCES_CACHE, seen, _SEEN_SOURCES_TTL)
    return seen
