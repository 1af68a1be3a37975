"""Reads for properties, scoped to what the caller's grants reach."""

from django.contrib.contenttypes.models import ContentType
from django.db.models import CharField, DateTimeField, IntegerField, QuerySet, Value

from apps.core.models import ExternalRef
from apps.core.principal import ALL
from apps.properties.models import Property


def property_list(*, property_ids=ALL) -> QuerySet[Property]:
    """Live properties, limited to `property_ids` (ALL = no limit). Their managers' ids are
    read per page by the serializer (`access_manager_ids`)."""
    queryset = Property.objects.alive()
    if property_ids is not ALL:
        queryset = queryset.filter(pk__in=property_ids)
    return queryset


def property_get(*, property_id) -> Property | None:
    return property_list().filter(pk=property_id).first()


def access_manager_ids(property_ids) -> dict:
    """{property id: [str(user id), ...] by id} in one query of bare ids from the link table
    (a prefetch built a whole User row for each id the API shows)."""
    managers: dict = {pk: [] for pk in property_ids}
    links = Property.access_managers.through.objects.filter(property_id__in=list(managers))
    for property_id, user_id in links.order_by("user_id").values_list("property_id", "user_id"):
        managers[property_id].append(str(user_id))
    return managers


_REF_FIELDS = ("external_id", "source", "sync_direction", "sync_status", "sync_schedule", "last_sync_date")


def property_links(*, property_id) -> tuple[list[str], list[ExternalRef]]:
    """(access-manager ids as str by id, external refs by id) of one property in one query: a
    UNION ALL of the link table's ids and the refs' rows, each branch padded to the other's
    columns (getProperty read them in two queries, each costing about a bare view's request)."""
    managers = (
        Property.access_managers.through.objects.filter(property_id=property_id)
        .annotate(kind=Value(0, IntegerField()))
        .values_list(
            "kind",
            "user_id",
            *(Value(None, DateTimeField() if f == "last_sync_date" else CharField()) for f in _REF_FIELDS),
        )
        .order_by()
    )
    refs = (
        ExternalRef.objects.filter(content_type=ContentType.objects.get_for_model(Property), object_id=property_id)
        .annotate(kind=Value(1, IntegerField()))
        .values_list("kind", "id", *_REF_FIELDS)
        .order_by()
    )
    manager_ids, external_refs = [], []
    for kind, pk, *fields in managers.union(refs, all=True):
        if kind == 0:
            manager_ids.append(pk)
        else:
            external_refs.append(ExternalRef(id=pk, **dict(zip(_REF_FIELDS, fields, strict=True))))
    return [str(pk) for pk in sorted(manager_ids)], sorted(external_refs, key=lambda ref: ref.pk)


def property_exists(*, property_id) -> bool:
    return Property.objects.alive().filter(pk=property_id).exists()


def live_property_ids(property_ids) -> set:
    """Which of `property_ids` name a live property (accounts.services.live_property_ids)."""
    return set(Property.objects.alive().filter(pk__in=list(property_ids)).values_list("pk", flat=True))
