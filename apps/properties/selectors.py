"""Reads for properties, scoped to what the caller's grants reach."""

import uuid

from django.db.models import QuerySet

from apps.core.choices import EntityTypeState
from apps.core.links import IdLink, links_read
from apps.core.models import ExternalRef
from apps.core.prepared import PreparedSelect
from apps.core.principal import ALL
from apps.properties.models import Property


def property_list(*, property_ids=ALL) -> QuerySet[Property]:
    """Live properties, limited to `property_ids` (ALL = no limit). Their managers' ids are
    read per page by the serializer (`access_manager_ids`)."""
    queryset = Property.objects.alive()
    if property_ids is not ALL:
        queryset = queryset.filter(pk__in=property_ids)
    return queryset


_PROPERTY = PreparedSelect(lambda property_id: Property.objects.filter(pk=property_id), uuid.UUID)


def property_get(*, property_id) -> Property | None:
    """The live property, or None. One row by primary key, its state checked in Python; the
    query is built and compiled once per process (core.prepared: `alive()` and `first()` had
    been a third of a getProperty's ORM time, issue 17)."""
    found = _PROPERTY.first(property_id)
    return found if found is not None and found.type_state != EntityTypeState.DELETED else None


def access_manager_ids(property_ids) -> dict:
    """{property id: [str(user id), ...] by id} in one query of bare ids from the link table
    (a prefetch built a whole User row for each id the API shows)."""
    managers: dict = {pk: [] for pk in property_ids}
    links = Property.access_managers.through.objects.filter(property_id__in=list(managers))
    for property_id, user_id in links.order_by("user_id").values_list("property_id", "user_id"):
        managers[property_id].append(str(user_id))
    return managers


def property_links(*, property_id) -> tuple[list[str], list[ExternalRef]]:
    """(access-manager ids as str by id, external refs by id) of one property in one query
    (core.links: getProperty read them in two, each costing about a bare view's request)."""
    key = Property._meta.pk.to_python(property_id)
    managers_link = IdLink(Property.access_managers.through, "property", "user")
    (managers,), refs = links_read([key], [managers_link], refs_of=Property)
    return managers[key], refs[key]


def property_exists(*, property_id) -> bool:
    return Property.objects.alive().filter(pk=property_id).exists()


def live_property_ids(property_ids) -> set:
    """Which of `property_ids` name a live property (accounts.services.live_property_ids)."""
    return set(Property.objects.alive().filter(pk__in=list(property_ids)).values_list("pk", flat=True))
