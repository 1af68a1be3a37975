"""drf-spectacular glue: the OpenAPI document shows what clients really receive.

- every 2xx JSON body is wrapped in its envelope component, named as in the spec:
  `<Model>Output` for one item, `<Model>ListOutput` (+ `<Model>ListOutput_data` holding the
  items and `pageToken`) for a paged list, `EmptyOutput` when there is no data;
- every operation documents 400/401/403/404 (and 429) as `ErrorOutput`;
- success is always 200 (the spec has no 201/204).
A view method may name its envelope explicitly with `@operation(..., envelope="SignedLockOutput")`.
"""

from drf_spectacular.openapi import AutoSchema
from drf_spectacular.plumbing import ResolvedComponent

ERROR_CODES = {
    "400": "invalid input",
    "401": "authentication required",
    "403": "insufficient permission",
    "404": "entity not found",
    "429": "too many requests",
}

_ENVELOPE_BASE = {
    "success": {"type": "boolean"},
    "error": {"type": "string", "nullable": True, "description": "will be non-null on error"},
}


class EnvelopeAutoSchema(AutoSchema):
    def _component(self, name: str, schema: dict) -> dict:
        component = ResolvedComponent(name=name, type=ResolvedComponent.SCHEMA, object=name, schema=schema)
        self.registry.register_on_missing(component)
        return component.ref

    def _envelope(self, name: str, data_schema: dict) -> dict:
        return self._component(
            name,
            {
                "type": "object",
                "required": ["success", "error", "data"],
                "properties": {**_ENVELOPE_BASE, "data": data_schema},
            },
        )

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
        for code, description in ERROR_CODES.items():
            responses.setdefault(
                code, {"description": description, "content": {"application/json": {"schema": error_ref}}}
            )
        return responses

    def _get_response_for_code(self, serializer, status_code, media_types=None, direction="response"):
        response = super()._get_response_for_code(serializer, status_code, media_types, direction)
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
        ref = (schema or {}).get("$ref", "")
        name = ref.rsplit("/", 1)[-1]
        if not schema:
            return self._envelope(explicit or "EmptyOutput", {"type": "object", "properties": {}})
        if explicit:
            return self._envelope(explicit, schema)
        if name.endswith("ListOutput_data"):
            return self._envelope(name[: -len("_data")], schema)
        if name:
            return self._envelope(f"{name}Output", schema)
        return self._envelope(f"{self.get_operation_id()[0].upper()}{self.get_operation_id()[1:]}Output", schema)
