"""What an API row lists besides its own columns (ids of related rows, external refs), for one
row or a page of them, read in one query.

Each related id list and the external refs are one branch of a UNION ALL; the id branches are
padded with NULLs to the refs' width. Raw SQL: building that union through the ORM cost more
Python than the queries it saved. Values go through the converters the ORM applies (SQLite's
UUIDs and datetimes). getProperty (managers + refs) and listAreas (locks + sub-areas + refs)
read their links this way: on PostgreSQL each query saved is about a third of a bare view's
request (docs/PERFORMANCE.md, issue 17).
"""

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from django.contrib.contenttypes.models import ContentType
from django.db import connection, models

from apps.core.choices import EntityTypeState
from apps.core.models import ExternalRef

REF_FIELDS = ("external_id", "source", "sync_direction", "sync_status", "sync_schedule", "last_sync_date")


@dataclass(frozen=True)
class IdLink:
    """The `value` ids of `model`'s rows whose `key` is one of the asked keys (field names), the
    deleted ones left out when `alive`."""

    model: type[models.Model]
    key: str
    value: str = "id"
    alive: bool = False


def links_read(
    keys: Iterable, id_links: Sequence[IdLink], *, refs_of: type[models.Model] | None = None
) -> tuple[list[dict], dict]:
    """([{key: [str(id), ...] sorted}, ...] one per IdLink, {key: [ExternalRef, ...] by id}),
    every asked key present (with empty lists), in one query. `keys`: primary keys as the ORM
    gives them (UUIDs), so that they match what the rows read back."""
    keys = list(keys)
    ids: list[dict] = [{key: [] for key in keys} for _ in id_links]
    refs: dict = {key: [] for key in keys}
    if not keys:
        return ids, refs
    padding = ", ".join(["NULL"] * len(REF_FIELDS))
    branches, params, converters = [], [], []
    for index, link in enumerate(id_links):
        key_field, value_field = link.model._meta.get_field(link.key), link.model._meta.get_field(link.value)
        where = f"{key_field.column} IN ({', '.join(['%s'] * len(keys))})"
        if link.alive:
            where += " AND type_state <> %s"
        columns = f"{index}, {key_field.column}, {value_field.column}, {padding}"
        branches.append(f"SELECT {columns} FROM {link.model._meta.db_table} WHERE {where}")  # noqa: S608 - model's own
        params += [_prep(key_field, key) for key in keys] + ([EntityTypeState.DELETED] if link.alive else [])
        converters.append((_converters(key_field), _converters(value_field)))
    ref_columns = [ExternalRef._meta.get_field(name) for name in ("object_id", "id", *REF_FIELDS)]
    if refs_of is not None:
        branches.insert(  # first: PostgreSQL types the padding NULLs of the other branches by it
            0,
            f"SELECT {len(id_links)}, {', '.join(f.column for f in ref_columns)} FROM {ExternalRef._meta.db_table}"  # noqa: S608
            f" WHERE content_type_id = %s AND object_id IN ({', '.join(['%s'] * len(keys))})",
        )
        params = [ContentType.objects.get_for_model(refs_of).pk, *(_prep(ref_columns[0], key) for key in keys), *params]
    with connection.cursor() as cursor:
        cursor.execute(" UNION ALL ".join(branches), params)
        rows = cursor.fetchall()
    ref_converters = [_converters(f) for f in ref_columns]
    for branch, key, value, *fields in rows:
        if branch < len(id_links):
            key_converters, value_converters = converters[branch]
            ids[branch][_converted(key, key_converters)].append(str(_converted(value, value_converters)))
        else:
            key = _converted(key, ref_converters[0])
            values = (_converted(v, c) for v, c in zip(fields, ref_converters[2:], strict=True))
            pk = _converted(value, ref_converters[1])
            refs[key].append(ExternalRef(id=pk, object_id=key, **dict(zip(REF_FIELDS, values, strict=True))))
    for found in ids:
        for values in found.values():
            values.sort()
    for found in refs.values():
        found.sort(key=lambda ref: ref.pk)
    return ids, refs


def _prep(field, value):
    target = field.target_field if field.is_relation else field
    return target.get_db_prep_value(value, connection)


def _converters(field) -> list:
    target = field.target_field if field.is_relation else field
    column = target.get_col(field.model._meta.db_table)
    return [(conv, column) for conv in connection.ops.get_db_converters(column) + column.get_db_converters(connection)]


def _converted(value, converters):
    for conv, column in converters:
        value = conv(value, column, connection)
    return value
