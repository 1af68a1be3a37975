"""A hot lookup's query built and compiled by the ORM once per process, then run with new values.

Building a queryset and compiling it is pure Python, and for the lookups every sync makes it
costs more than the database does: a phone's device row with its keys and stored map (three
joins) took 555 µs to build and compile on PostgreSQL, the sign-in token with its person 274 µs,
of a no-change syncUserDevice's ~4 ms (docs/PERFORMANCE.md, issue 17). `PreparedSelect` asks
the ORM for the SQL once, with stand-in values, notes where each stand-in landed among the
parameters, and from then on runs that SQL with the real values in their place, turning the
rows into model instances (and their select_related objects) the way a queryset does.

Only for fixed shapes whose values are compared as they are (exact, lt, gt, ...: no LIKE
patterns): the stand-ins must come out of the ORM unchanged but for the database's own
adaptation (UUIDs as hex on SQLite, datetimes as text), or preparing fails loudly.
"""

import datetime as dt
import threading
import uuid
from collections.abc import Callable

from django.db import DEFAULT_DB_ALIAS, connections
from django.db.models import Model, QuerySet
from django.db.models.query import get_related_populators

_STAND_IN_UUID = 0x6B68_7072_6570_6172_6564_0000_0000_0000  # arbitrary; never stored
_KINDS = (uuid.UUID, dt.datetime, str, int)


def _stand_in(kind, index: int):
    if kind is uuid.UUID:
        return uuid.UUID(int=_STAND_IN_UUID + index)
    if kind is dt.datetime:
        return dt.datetime(1901, 2, 3, 4, 5, 6, 700_000 + index, tzinfo=dt.UTC)
    if kind is str:
        return f"__prepared_stand_in_{index}__"
    return -7_654_321 - index


def _adapt(kind, value, connection):
    """A value as the ORM would hand it to the driver (for the kinds above)."""
    if kind is uuid.UUID:
        value = value if isinstance(value, uuid.UUID) else uuid.UUID(str(value))
        return value if connection.features.has_native_uuid_field else value.hex
    if kind is dt.datetime:
        return connection.ops.adapt_datetimefield_value(value)
    return value


class _Compiled:
    def __init__(self, queryset: QuerySet, kinds: tuple, stand_ins: list, connection):
        compiler = queryset.query.get_compiler(connection=connection)
        self.sql, params = compiler.as_sql()
        self.params = list(params)
        self.slots = []
        for kind, stand_in in zip(kinds, stand_ins, strict=True):
            adapted = _adapt(kind, stand_in, connection)
            found = [i for i, param in enumerate(self.params) if type(param) is type(adapted) and param == adapted]
            if len(found) != 1:
                raise ValueError(f"PreparedSelect: a {kind.__name__} value must appear once as a plain parameter")
            self.slots.append((found[0], kind))
        self.compiler = compiler
        info = compiler.klass_info
        self.model = info["model"]
        start, end = info["select_fields"][0], info["select_fields"][-1] + 1
        self.span = slice(start, end)
        self.init_list = [column[0].target.attname for column in compiler.select[self.span]]
        self.populators = get_related_populators(info, compiler.select, connection.alias)
        self.converters = compiler.get_converters([column[0] for column in compiler.select[: compiler.col_count]])


class PreparedSelect:
    """`build(*values)` → the queryset (plain filters on the values, select_related allowed; no
    ordering or slicing needed: the lookups it is for find one row by a unique key). `kinds`:
    each value's type (uuid.UUID, datetime, str or int). `.first(*values)` runs it: the row's
    instance, or None (also for a value that cannot be of its kind, like a malformed UUID)."""

    def __init__(self, build: Callable[..., QuerySet], *kinds):
        if any(kind not in _KINDS for kind in kinds):
            raise ValueError(f"PreparedSelect: kinds are {', '.join(k.__name__ for k in _KINDS)}")
        self.build, self.kinds = build, kinds
        # The compiler holds its connection, and a connection belongs to one thread: one compiled
        # query per thread, gone with it (a thread per request, as runserver has, keeps none).
        self._local = threading.local()

    def _for(self, connection) -> _Compiled:
        compiled = getattr(self._local, "compiled", None)
        if compiled is None or compiled.compiler.connection is not connection:
            stand_ins = [_stand_in(kind, index) for index, kind in enumerate(self.kinds)]
            compiled = _Compiled(self.build(*stand_ins), self.kinds, stand_ins, connection)
            self._local.compiled = compiled
        return compiled

    def first(self, *values) -> Model | None:
        connection = connections[DEFAULT_DB_ALIAS]
        compiled = self._for(connection)
        params = list(compiled.params)
        try:
            for (slot, kind), value in zip(compiled.slots, values, strict=True):
                params[slot] = _adapt(kind, value, connection)
        except (TypeError, ValueError):  # not a UUID, say: no row has it
            return None
        with connection.cursor() as cursor:
            cursor.execute(compiled.sql, params)
            row = cursor.fetchone()
        if row is None:
            return None
        if compiled.converters:
            (row,) = compiled.compiler.apply_converters([row], compiled.converters)
        obj = compiled.model.from_db(connection.alias, compiled.init_list, row[compiled.span])
        for populator in compiled.populators:
            populator.populate(row, obj)
        return obj


_OPERATORS = {"exact": "=", "lt": "<", "lte": "<=", "gt": ">", "gte": ">="}


class PreparedUpdate:
    """`model.objects.filter(**where).update(**values)` for one fixed shape, its SQL written once
    per process: Django builds and compiles the UPDATE's WHERE and SET clauses in Python on every
    call (about 0.2 ms of each no-change sync). `where`: lookups in the order of their values
    (`field`, `field__lt`, ...; `field__isnull` takes no value and means IS NULL); `fields`: the
    columns set, in the order of theirs. Values are prepared by their fields, as the ORM does; a
    None compared with `=` (which SQL never matches) goes through the ORM, which means IS NULL."""

    def __init__(self, model: type[Model], *, where: tuple[str, ...], fields: tuple[str, ...]):
        self.model, self.where, self.fields = model, where, fields
        meta = model._meta
        self._conditions, self._where_fields = [], []  # (column, SQL operator), (field, lookup)
        for lookup in where:
            name, _, operator = lookup.partition("__")
            field = meta.pk if name == "pk" else meta.get_field(name)
            if operator == "isnull":
                self._conditions.append((field.column, "IS NULL"))
                continue
            self._conditions.append((field.column, f"{_OPERATORS[operator or 'exact']} %s"))
            self._where_fields.append((field, lookup))
        self._set_fields = [meta.get_field(name) for name in fields]
        self._sql = None

    def _statement(self, connection) -> str:
        if self._sql is None:
            quote = connection.ops.quote_name
            assignments = ", ".join(f"{quote(field.column)} = %s" for field in self._set_fields)
            conditions = " AND ".join(f"{quote(column)} {test}" for column, test in self._conditions)
            self._sql = f"UPDATE {quote(self.model._meta.db_table)} SET {assignments} WHERE {conditions}"  # noqa: S608
        return self._sql

    def run(self, where_values, values) -> int:
        """The number of rows updated."""
        where_values, values = list(where_values), list(values)
        if any(value is None for value in where_values):
            filters = {lookup: value for (_, lookup), value in zip(self._where_fields, where_values, strict=True)}
            filters.update({lookup: True for lookup in self.where if lookup.endswith("__isnull")})
            return self.model.objects.filter(**filters).update(**dict(zip(self.fields, values, strict=True)))
        connection = connections[DEFAULT_DB_ALIAS]
        params = [field.get_db_prep_save(v, connection) for field, v in zip(self._set_fields, values, strict=True)]
        params += [
            field.get_db_prep_value(value, connection, prepared=False)
            for (field, _), value in zip(self._where_fields, where_values, strict=True)
        ]
        with connection.cursor() as cursor:
            cursor.execute(self._statement(connection), params)
            return cursor.rowcount
