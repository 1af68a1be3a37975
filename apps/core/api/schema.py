"""drf-spectacular glue: the OpenAPI document shows what clients really receive.

- every 2xx JSON body is wrapped in its envelope component, named as in the spec:
  `<Model>Output` for one item, `<Model>ListOutput` (+ `<Model>ListOutput_data` holding the
  items and `pageToken`) for a paged list, `EmptyOutput` when there is no data;
- every operation documents 400/401/403/404, 429 and 503 as `ErrorOutput`, plus the statuses
  its `@operation(..., errors={409: "when"})` names;
- success is always 200 (the spec has no 201/204).
A view method may name its envelope explicitly with `@operation(..., envelope="SignedLockOutput")`,
and declare members the envelope carries next to `success/error/data` with
`@operation(..., envelope_extra={"signatures": SIGNATURES})` ({name: OpenAPI schema}; every
declared member is required: present in every 2xx answer, `nullable` when it may be null).
Operations sharing an envelope name must declare the same members (a warning otherwise, which
`spectacular --fail-on-warn` turns into an error).

A list backed by a django-filter FilterSet documents its query parameters with
`filter_parameters(FilterSet)`, so the schema and the filters cannot drift.
"""

import django_filters
from drf_spectacular.drainage import warn
from drf_spectacular.openapi import AutoSchema
from drf_spectacular.plumbing import ResolvedComponent
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter

# Envelope members of the signed answers (docs/PROTOCOL.md §3.5, §6.2, §6.6, §7.4).
SIGNATURES = {
    "type": "object",
    "additionalProperties": {"type": "string"},
    "description": "{kid: base64url Ed25519 signature} over `data` (PROTOCOL.md §3.4, §3.5); `{}` when unsigned",
}
SIGNED_KEY_MAP = {
    "type": "object",
    "nullable": True,
    "required": ["payload", "signatures"],
    "properties": {
        "payload": {
            "type": "object",
            "additionalProperties": {},
            "description": "the key map (PROTOCOL.md §6.3), exactly as signed by the worker",
        },
        "signatures": {
            **SIGNATURES,
            "description": "{kid: base64url Ed25519 signature} over `payload` under keyhouse/lock-key-map/v1",
        },
    },
    "description": "the stored, signed key map when the lock is behind (`keyMapVersion` > its "
    "`currentKeyMapVersion`), else null (PROTOCOL.md §6.6)",
}

ERROR_CODES = {
    "400": "invalid input",
    "401": "authentication required",
    "403": "insufficient permission",
    "404": "entity not found",
    "429": "too many requests",
    "503": "the database is unavailable: nothing was changed; retry after `Retry-After` seconds",
}

_FILTER_TYPES = (
    (django_filters.UUIDFilter, OpenApiTypes.UUID),
    (django_filters.BooleanFilter, OpenApiTypes.BOOL),
    (django_filters.NumberFilter, OpenApiTypes.NUMBER),
)


def filter_parameters(filterset_class, *, append: dict[str, str] | None = None) -> list[OpenApiParameter]:
    """The query parameters of a FilterSet: its filters' names, types (UUID, boolean, number,
    else string), the values of choice filters as an enum, and their `help_text` (or `label`)
    as description. `append` adds text to a parameter's description ({name: text})."""
    append = append or {}
    parameters = []
    for name, flt in filterset_class.base_filters.items():
        kind = next((kind for cls, kind in _FILTER_TYPES if isinstance(flt, cls)), OpenApiTypes.STR)
        enum = None
        if isinstance(flt, django_filters.ChoiceFilter | django_filters.TypedChoiceFilter):
            choices = flt.extra["choices"]
            enum = [value for value, _ in (choices() if callable(choices) else choices)]
        description = flt.extra.get("help_text") or flt.label or ""
        if name in append:
            description += append[name]
        pattern = getattr(flt, "schema_pattern", None)  # a CharFilter whose method checks this form
        parameters.append(OpenApiParameter(name, kind, enum=enum, pattern=pattern, description=description))
    return parameters


_ENVELOPE_BASE = {
    "success": {"type": "boolean"},
    "error": {"type": "string", "nullable": True, "description": "will be non-null on error"},
}
# Keyhouse extension (docs/API.md "Following a write"): not in `required`, as reads and errors omit it.
EVENT_IDS = {
    "type": "array",
    "items": {"type": "string", "format": "uuid"},
    "description": "present on every successful write (any method but GET): the ids of the events "
    "this request appended, in order (`[]` when it changed nothing); follow one with "
    "GET /api/v1/events/{eventId}/acknowledgements",
}


# component name → a serializer's `request_schema(schema)`: what it adds to its request body's
# schema (constraints between members). Applied by `postprocess_request_variants`, which runs
# after drf-spectacular's enum hook, so the variants' narrowed enums stay inline.
REQUEST_VARIANTS: dict = {}


def postprocess_request_variants(result, generator, request, public):
    schemas = result.get("components", {}).get("schemas", {})
    for name, request_schema in REQUEST_VARIANTS.items():
        for component in (name, f"Patched{name}"):  # PATCH bodies are named Patched…
            if component in schemas:
                schemas[component] = request_schema(schemas[component])
    return result


class EnvelopeAutoSchema(AutoSchema):
    def _map_serializer(self, serializer, direction, bypass_extensions=False):
        """A strict input body (StrictInputMixin) refuses members it does not declare: the schema
        says so (`additionalProperties: false`). Output members a serializer shows only in some
        answers (`Meta.optional_output`) are not `required`."""
        from apps.core.api.serializers import StrictInputMixin

        schema = super()._map_serializer(serializer, direction, bypass_extensions)
        if direction == "request" and isinstance(serializer, StrictInputMixin) and schema.get("type") == "object":
            schema["additionalProperties"] = False
        if direction == "request" and hasattr(serializer, "request_schema"):
            # constraints between members (oneOf …), applied after the enum hook (see below)
            REQUEST_VARIANTS[self._get_serializer_name(serializer, direction)] = serializer.request_schema
        optional = getattr(getattr(serializer, "Meta", None), "optional_output", ())
        if direction == "response" and optional and "required" in schema:
            schema["required"] = [name for name in schema["required"] if name not in optional]
        return schema

    def _map_serializer_field(self, field, direction, bypass_extensions=False):
        """A nested list of serializers (`Foo(many=True)`) states its length limits as a ListField
        does: `allow_empty=False` or `min_length` is `minItems`, `max_length` is `maxItems`."""
        from rest_framework import serializers

        schema = super()._map_serializer_field(field, direction, bypass_extensions)
        if isinstance(field, serializers.ListSerializer) and schema.get("type") == "array":
            minimum = field.min_length if field.min_length is not None else (0 if field.allow_empty else 1)
            if minimum:
                schema["minItems"] = minimum
            if field.max_length is not None:
                schema["maxItems"] = field.max_length
        return schema

    def _component(self, name: str, schema: dict) -> dict:
        component = ResolvedComponent(name=name, type=ResolvedComponent.SCHEMA, object=name, schema=schema)
        self.registry.register_on_missing(component)
        return component.ref

    def _envelope(self, name: str, data_schema: dict, extra: dict | None = None) -> dict:
        extra = extra or {}
        schema = {
            "type": "object",
            "required": ["success", "error", "data", *extra],
            "properties": {**_ENVELOPE_BASE, "data": data_schema, **extra},
        }
        if name != "ErrorOutput":
            schema["properties"]["eventIds"] = EVENT_IDS
        key = (name, ResolvedComponent.SCHEMA)
        registered = self.registry._components.get(key)
        if registered is not None and registered.schema != schema:
            warn(
                f"envelope {name} is declared with different members or data by two operations "
                f"({sorted(registered.schema['properties'])} vs {sorted(schema['properties'])}): "
                "give every operation sharing it the same `envelope_extra` and data"
            )
        return self._component(name, schema)

    def _error_output(self) -> dict:
        return self._envelope(
            "ErrorOutput",
            {
                "type": "object",
                "additionalProperties": {},
                "description": "error details, e.g. `fields` for invalid input",
            },
        )

    def _handler_envelope_name(self) -> str | None:
        handler = getattr(self.view, self.method.lower(), None)
        return getattr(handler, "envelope_name", None)

    def _handler_envelope_extra(self) -> dict:
        """Members the handler's envelope carries beside success/error/data (`envelope_extra`)."""
        handler = getattr(self.view, self.method.lower(), None)
        return dict(getattr(handler, "envelope_extra", None) or {})

    def _get_paginator(self):
        paginator = super()._get_paginator()
        if paginator is not None:
            paginator.items_key = getattr(self.view, "page_items_key", "items")
        return paginator

    def get_paginated_name(self, serializer_name: str) -> str:
        return f"{serializer_name}ListOutput_data"

    def _get_response_bodies(self, direction="response"):
        responses = super()._get_response_bodies(direction)
        error_ref = self._error_output()
        handler = getattr(self.view, self.method.lower(), None)
        for code, description in {**ERROR_CODES, **(getattr(handler, "error_codes", None) or {})}.items():
            responses.setdefault(
                code, {"description": description, "content": {"application/json": {"schema": error_ref}}}
            )
        return responses

    def _get_response_for_code(self, serializer, status_code, media_types=None, direction="response"):
        response = super()._get_response_for_code(serializer, status_code, media_types, direction)
        if str(status_code) == "204":  # no content: no body, no envelope
            response.pop("content", None)
            return response
        if not ("200" <= str(status_code) < "300"):
            return response
        content = response.setdefault("content", {"application/json": {"schema": None}})
        for media_type, body in content.items():
            if media_type != "application/json":
                continue
            body["schema"] = self._wrap(body.get("schema"))
        return response

    def _wrap(self, schema: dict | None) -> dict:
        explicit = self._handler_envelope_name()
        extra = self._handler_envelope_extra()
        ref = (schema or {}).get("$ref", "")
        name = ref.rsplit("/", 1)[-1]
        if not schema:
            return self._envelope(explicit or "EmptyOutput", {"type": "object", "properties": {}}, extra)
        if explicit:
            return self._envelope(explicit, schema, extra)
        if name.endswith("ListOutput_data"):
            return self._envelope(name[: -len("_data")], schema, extra)
        if name:
            return self._envelope(f"{name}Output", schema, extra)
        operation_id = self.get_operation_id()
        return self._envelope(f"{operation_id[0].upper()}{operation_id[1:]}Output", schema, extra)
