"""Serializer building blocks: camelCase field names, spec timestamps, strict input.

- `CamelModelSerializer`: list snake_case model fields in `Meta.fields`; they are exposed as
  camelCase (`display_name` → `displayName`) with `source` pointing back. No key-renaming
  middleware, so the OpenAPI schema, validation errors and responses all show the spec names.
- `TimestampField`: emits `YYYY-MM-DDThh:mm:ss.sssZ` (UTC, milliseconds); accepts ISO 8601
  with or without milliseconds.
- `StrictInputMixin`: unknown input fields are a 400 that names them.
"""

import copy

from django.contrib.contenttypes.models import ContentType
from django.db import models
from rest_framework import serializers
from rest_framework.fields import SkipField
from rest_framework.relations import PKOnlyObject

from apps.core.choices import EntityTypeState, ExternalRefSyncDirection, ExternalRefSyncStatus
from apps.core.models import ExternalRef
from apps.core.timestamps import format_timestamp


def camel(name: str) -> str:
    head, *rest = name.split("_")
    return head + "".join(part[:1].upper() + part[1:] for part in rest)


class TimestampField(serializers.DateTimeField):
    """ISO 8601 UTC timestamp, `2022-07-14T17:25:03.000Z` (spec §5 'ISO_8601 UTC date time')."""

    def to_representation(self, value):
        if not value:
            return None
        return format_timestamp(value)


def _json_type_problem(field: serializers.Field, value) -> str | None:
    """What is wrong with a JSON value's type for `field`, or None. DRF coerces (`0` becomes
    "0" for a string, "5" becomes 5 for an integer, "yes" becomes true): a JSON body gets the
    types its schema states, nothing else."""
    if value is None:
        return None  # allow_null is the field's own business
    if isinstance(field, serializers.BooleanField):
        return None if isinstance(value, bool) else "Must be true or false."
    if isinstance(field, serializers.IntegerField):
        return None if isinstance(value, int) and not isinstance(value, bool) else "Must be an integer."
    if isinstance(field, serializers.CharField | serializers.UUIDField | serializers.DateTimeField):
        # a UUIDField also takes an integer (uuid.UUID(int=…)): JSON gets the schema's string only
        return None if isinstance(value, str) else "Must be a string."
    if isinstance(field, serializers.ChoiceField) and all(isinstance(c, str) for c in field.choices):
        return None if isinstance(value, str) else "Must be a string."
    if isinstance(field, serializers.DictField) and isinstance(value, dict):
        for key, item in value.items():
            problem = _json_type_problem(field.child, item)
            if problem:
                return f"{key}: {problem}"
    return None


class StrictInputMixin:
    """Reject input keys the serializer does not declare, naming each one, and JSON values of
    another type than the field's (a number for a string, a string for an integer or boolean)."""

    def to_internal_value(self, data):
        refused = {}
        if isinstance(data, dict):
            writable = {name: field for name, field in self.fields.items() if not field.read_only}
            refused = {name: ["Unknown field."] for name in sorted(set(data) - set(writable))}
            for name, field in writable.items():
                problem = _json_type_problem(field, data[name]) if name in data else None
                if problem:
                    refused[name] = [problem]
        try:
            value = super().to_internal_value(data)
        except serializers.ValidationError as exc:
            raise serializers.ValidationError({**exc.detail, **refused}) from None
        if refused:
            raise serializers.ValidationError(refused)
        return value


class InputSerializer(StrictInputMixin, serializers.Serializer):
    """Base for request bodies: strict, camelCase names declared directly."""

    def get_fields(self):
        """Copies of the declared fields (`_fresh`): DRF deep-copies every one per instance, a
        tenth of a no-change syncUserDevice's Python (issue 17)."""
        return {name: _fresh(field) for name, field in self._declared_fields.items()}


class CamelModelSerializer(serializers.ModelSerializer):
    """ModelSerializer whose fields are exposed under camelCase names."""

    serializer_field_mapping = {
        **serializers.ModelSerializer.serializer_field_mapping,
        models.DateTimeField: TimestampField,
    }

    def get_fields(self):
        """The fields, built once per class and copied for each instance.

        ModelSerializer introspects the model and deep-copies every declared field for every
        instance: for a listAreas page that was about a tenth of the request (each DRF field is
        re-created from its deep-copied arguments, nested serializers with all of theirs). The
        fields are built once here, unbound, and each instance gets its own copies to bind:
        shallow for a plain field (what it shares, like its choices, nothing changes once
        built), deep as before for a nested serializer or a field with a child."""
        template = _FIELDS_TEMPLATES.get(type(self))
        if template is None:
            template = _FIELDS_TEMPLATES[type(self)] = self._camel_fields()
        return {name: _fresh(field) for name, field in template.items()}

    def _camel_fields(self) -> dict:
        renamed = {}
        for name, field in super().get_fields().items():
            camel_name = camel(name)
            if camel_name != name and field.source is None:
                field.source = name
            renamed[camel_name] = field
        return renamed


_FIELDS_TEMPLATES: dict[type, dict] = {}


def _fresh(field: serializers.Field) -> serializers.Field:
    """An unbound copy of a template field for one serializer instance to bind."""
    if isinstance(field, serializers.BaseSerializer) or hasattr(field, "child") or hasattr(field, "child_relation"):
        return copy.deepcopy(field)
    return copy.copy(field)


class EntitySerializer(CamelModelSerializer):
    """Spec LucilleBase fields, read-only, for every entity output serializer."""

    type = serializers.CharField(source="entity_type", read_only=True)
    typeState = serializers.ChoiceField(source="type_state", choices=EntityTypeState.choices, read_only=True)
    createdAt = TimestampField(source="created_at", read_only=True)
    lastModifiedAt = TimestampField(source="last_modified_at", read_only=True)
    lastModifiedBy = serializers.CharField(source="last_modified_by", read_only=True)

    BASE_FIELDS = ("type", "typeState", "createdAt", "lastModifiedAt", "lastModifiedBy")


class ExternalRefSerializer(serializers.Serializer):
    """Spec ExternalRef; `id` is the record's id in the external system."""

    id = serializers.CharField(source="external_id", max_length=255)
    source = serializers.CharField(max_length=64)
    syncDirection = serializers.ChoiceField(source="sync_direction", choices=ExternalRefSyncDirection.choices)
    syncStatus = serializers.ChoiceField(source="sync_status", choices=ExternalRefSyncStatus.choices)
    syncSchedule = serializers.CharField(source="sync_schedule", required=False, allow_blank=True)
    lastSyncDate = TimestampField(source="last_sync_date", required=False, allow_null=True)


class AddressSerializer(InputSerializer):
    """Spec Address."""

    line1 = serializers.CharField(max_length=200)
    line2 = serializers.CharField(max_length=200, required=False, allow_blank=True)
    line3 = serializers.CharField(max_length=200, required=False, allow_blank=True)
    city = serializers.CharField(max_length=100)
    state = serializers.CharField(max_length=100, required=False, allow_blank=True)
    country = serializers.CharField(max_length=100)
    postalCode = serializers.CharField(max_length=20)


def _direct(field: serializers.Field):
    """A function equal to `field.to_representation` on a non-None value, for the plain field
    types; None for any other field (DRF's own path serves it)."""
    kind = type(field)
    if kind is serializers.UUIDField and field.uuid_format == "hex_verbose":
        return str
    if kind is serializers.CharField:
        return str
    if kind is serializers.IntegerField:
        return int
    if kind in (serializers.ChoiceField, TimestampField):
        return field.to_representation
    child = getattr(field, "child", None)
    if kind is serializers.ListField and type(child) is serializers.UUIDField and child.uuid_format == "hex_verbose":
        return lambda values: [None if value is None else str(value) for value in values]
    return None


class DirectFieldsMixin:
    """`to_representation` that reads a plain field (one attribute, a plain type: `_direct`)
    with getattr and converts it directly, and leaves every other field to DRF; the same dict,
    key for key, as DRF builds it (tests/areas/test_direct_fields.py). For a list of rows:
    DRF's per-field `get_attribute` / `to_representation` was the largest cost of a listAreas
    page of 50 (docs/PERFORMANCE.md, issue 17)."""

    def to_representation(self, instance):
        plan = self.__dict__.get("_direct_plan")
        if plan is None:
            plan = self.__dict__["_direct_plan"] = [
                (field.field_name, field, *_direct_plan(field)) for field in self._readable_fields
            ]
        row = {}
        for name, field, attr, convert in plan:
            if attr is not None:
                value = getattr(instance, attr, _MISSING)
                if value is None:
                    row[name] = None
                    continue
                if value is not _MISSING and not callable(value):
                    row[name] = convert(value)
                    continue
            try:
                value = field.get_attribute(instance)  # DRF's path, its defaults and SkipField
            except SkipField:
                continue
            check = value.pk if isinstance(value, PKOnlyObject) else value
            row[name] = None if check is None else field.to_representation(value)
        return row


_MISSING = object()


def _direct_plan(field) -> tuple:
    convert = _direct(field)
    if convert is None or len(field.source_attrs) != 1:
        return None, None
    return field.source_attrs[0], convert


def page_cached(field: serializers.Field, name: str, compute):
    """For a field of an item serializer: `compute(objects)` → {pk: value} once per page.

    Serializing a page (`many=True`), the first row computes the whole page and keeps it on
    the list serializer, so a list costs the same queries whatever its size; a single object
    computes for itself, unless the view read its values with others and passed them in the
    serializer's context under the same name (getProperty: managers and refs in one query).
    (Django's prefetch_related builds a queryset per row to hand out what one query read: for
    a generic relation that was a fifth of a listAreas request.)"""
    owner = field.parent.parent if isinstance(field.parent.parent, serializers.ListSerializer) else None
    if owner is None or not isinstance(owner.instance, (list, tuple, models.QuerySet)):
        return field.context.get(name)
    cache = owner.__dict__.get(name)
    if cache is None:
        cache = owner.__dict__[name] = compute(list(owner.instance))
    return cache


def external_refs_by_object(objects) -> dict:
    """{pk: [ExternalRef, ...]} for model instances of one class, in one query."""
    objects = list(objects)
    if not objects:
        return {}
    content_type = ContentType.objects.get_for_model(type(objects[0]))
    refs: dict = {obj.pk: [] for obj in objects}
    for ref in ExternalRef.objects.filter(content_type=content_type, object_id__in=list(refs)):
        refs[ref.object_id].append(ref)
    return refs


class ExternalRefsField(serializers.ListField):
    """`externalRefs` of an entity: a page's in one query (`page_cached`), one object's in one."""

    def __init__(self, **kwargs):
        super().__init__(child=ExternalRefSerializer(), source="*", read_only=True, **kwargs)

    def refs(self, obj) -> list:
        refs = page_cached(self, "_external_refs", external_refs_by_object)
        if refs is None:
            refs = external_refs_by_object([obj])
        return refs.get(obj.pk, [])

    def to_representation(self, obj):
        return [self.child.to_representation(ref) for ref in self.refs(obj)]
