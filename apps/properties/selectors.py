"""Reads for properties, scoped to what the caller's grants reach."""

from django.contrib.contenttypes.models import ContentType
from django.db import connection
from django.db.models import QuerySet

from apps.core.choices import EntityTypeState
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
    """The live property, or None. One row by primary key, its state checked in Python: the
    ORM compiled `alive()` (a NOT) and `first()` (an ORDER BY) for every getProperty, a third
    of the request's ORM time once the other queries went (issue 17)."""
    found = list(Property.objects.filter(pk=property_id))
    return found[0] if found and found[0].type_state != EntityTypeState.DELETED else None


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
    UNION ALL of the link table's user ids and the refs' rows, the first branch padded with
    NULLs (getProperty read them in two queries, each costing about a bare view's request).
    Raw SQL: building that union through the ORM cost more Python than the query it saved;
    values go through the same converters the ORM applies (SQLite's UUIDs and datetimes)."""
    links = Property.access_managers.through
    link_property, link_user = links._meta.get_field("property"), links._meta.get_field("user")
    columns = [ExternalRef._meta.get_field(name) for name in ("id", *_REF_FIELDS)]
    padding = ", ".join(["NULL"] * len(_REF_FIELDS))
    sql = (
        f"SELECT 0, {link_user.column}, {padding} FROM {links._meta.db_table} WHERE {link_property.column} = %s"  # noqa: S608
        f" UNION ALL SELECT 1, {', '.join(f.column for f in columns)} FROM {ExternalRef._meta.db_table}"
        " WHERE content_type_id = %s AND object_id = %s"
    )
    key = Property._meta.pk.get_db_prep_value(property_id, connection)
    content_type_id = ContentType.objects.get_for_model(Property).pk
    with connection.cursor() as cursor:
        cursor.execute(sql, [key, content_type_id, key])
        rows = cursor.fetchall()
    convert = [_converters(link_user.target_field), *(_converters(f) for f in columns[1:])]
    manager_ids, external_refs = [], []
    for kind, pk, *fields in rows:
        pk = _converted(pk, convert[0])
        if kind == 0:
            manager_ids.append(pk)
        else:
            values = (_converted(v, c) for v, c in zip(fields, convert[1:], strict=True))
            external_refs.append(ExternalRef(id=pk, **dict(zip(_REF_FIELDS, values, strict=True))))
    return [str(pk) for pk in sorted(manager_ids)], sorted(external_refs, key=lambda ref: ref.pk)


def _converters(field) -> list:
    column = field.get_col(field.model._meta.db_table)
    return [(conv, column) for conv in connection.ops.get_db_converters(column) + column.get_db_converters(connection)]


def _converted(value, converters):
    for conv, column in converters:
        value = conv(value, column, connection)
    return value


def property_exists(*, property_id) -> bool:
    return Property.objects.alive().filter(pk=property_id).exists()


def live_property_ids(property_ids) -> set:
    """Which of `property_ids` name a live property (accounts.services.live_property_ids)."""
    return set(Property.objects.alive().filter(pk__in=list(property_ids)).values_list("pk", flat=True))
