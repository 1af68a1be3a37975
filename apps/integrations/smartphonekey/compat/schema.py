"""OpenAPI for the compatibility endpoints: their own schema at `/compat/smartphonekey/schema/`.

The Keyhouse schema (`/api/v1/schema/`) describes the `/api/` envelope and auth, which these
paths do not use, so it leaves them out (`exclude_compat`, a preprocessing hook in settings);
the compat schema keeps only them (`only_compat`) and describes them with drf-spectacular's
plain AutoSchema (no envelope) and the raw schemas below, which state exactly what
`parsing.py` and the views enforce (tests/integrations/test_compat_fuzz.py fuzzes them)."""

from drf_spectacular.openapi import AutoSchema
from drf_spectacular.utils import extend_schema
from drf_spectacular.views import SpectacularAPIView

from apps.integrations.smartphonekey.compat.parsing import GRANTED_BY_MAX, LEVELS

PREFIX = "/compat/"
TAGS = ["SmartphoneKey compatibility"]


def compat_operation(**kwargs):
    """`extend_schema` for a compat view's method, built on drf-spectacular's plain AutoSchema
    (a method's extended schema otherwise builds on the project's envelope schema)."""

    def decorate(method):
        method.schema = AutoSchema
        return extend_schema(tags=TAGS, **kwargs)(method)

    return decorate


API_KEY = {"compatApiKey": []}  # X-API-Key: a Keyhouse API key
BEARER = {"compatBearer": []}  # Authorization: Bearer <JWT from POST auth/token>
SECURITY_SCHEMES = {
    "compatApiKey": {
        "type": "apiKey",
        "in": "header",
        "name": "X-API-Key",
        "description": "A Keyhouse API key; its scope bounds lockId.",
    },
    "compatBearer": {
        "type": "http",
        "scheme": "bearer",
        "bearerFormat": "JWT",
        "description": "The token `POST /compat/smartphonekey/auth/token` issued to the same X-API-Key.",
    },
}

NON_BLANK = r"\S"  # at least one character that is not white space: blanks are refused
TIME = {
    "nullable": True,
    "description": "RFC 3339 with an offset, or YYYY-MM-DD (that day, in the property's zone); empty or null: none.",
    "anyOf": [
        {"type": "string", "format": "date-time"},
        {"type": "string", "format": "date"},
        {"type": "string", "enum": [""]},
    ],
}
LEVEL = {"type": "string", "enum": list(LEVELS)}

ERROR = {
    "type": "object",
    "required": ["success", "error"],
    "properties": {
        "success": {"type": "boolean", "enum": [False]},
        "error": {"type": "string", "description": "`<field>: <reason>`"},
    },
}
TOKEN = {
    "type": "object",
    "required": ["success", "token", "expiresAt"],
    "properties": {
        "success": {"type": "boolean", "enum": [True]},
        "token": {"type": "string", "description": "HS256 JWT with `kid`; valid at most one hour."},
        "expiresAt": {"type": "string", "format": "date-time"},
    },
}
ADD_REQUEST = {
    "type": "object",
    "required": ["lockId", "accessLevel", "grantedBy"],
    "properties": {
        "lockId": {
            "type": "string",
            "format": "uuid",
            "description": "Keyhouse lock id, within the API key's scope (any other lock, or not an id: 404).",
        },
        "lockName": {"type": "string", "nullable": True, "description": "A label; never renames the lock."},
        "accessLevel": LEVEL,
        "validFrom": TIME,
        "validUntil": {
            **TIME,
            "description": f"{TIME['description']} Now or earlier revokes (there is no removal call).",
        },
        "grantedBy": {"type": "string", "pattern": NON_BLANK, "maxLength": GRANTED_BY_MAX},
    },
}
# A GUEST grant must end (the grant service's rule): validUntil is then a time, not left out.
ADD_REQUEST["anyOf"] = [
    {"properties": {"accessLevel": {"type": "string", "enum": [level for level in LEVELS if level != "GUEST"]}}},
    {
        "properties": {
            "accessLevel": {"type": "string", "enum": ["GUEST"]},
            "validUntil": {"type": "string", "anyOf": TIME["anyOf"][:2]},
        },
        "required": ["validUntil"],
    },
]
ADD_RESULT = {
    "type": "object",
    "required": ["success", "aggregateId", "version", "event", "lockId", "accessLevel"],
    "properties": {
        "success": {"type": "boolean", "enum": [True]},
        "aggregateId": {"type": "string", "description": "The user id."},
        "version": {"type": "integer", "description": "Rises by 1 per change to the user's locks."},
        "event": {"type": "object", "nullable": True, "description": "The change, or null if none."},
        "lockId": {"type": "string"},
        "accessLevel": LEVEL,
    },
}


def require_bodies(result, generator, request, public):
    """A compat call with a body needs it (a raw request schema is not marked so by itself)."""
    for item in result.get("paths", {}).values():
        for operation in item.values():
            if "requestBody" in operation:
                operation["requestBody"]["required"] = True
    return result


def exclude_compat(endpoints, **kwargs):
    return [endpoint for endpoint in endpoints if not endpoint[0].startswith(PREFIX)]


def only_compat(endpoints, **kwargs):
    return [endpoint for endpoint in endpoints if endpoint[0].startswith(f"{PREFIX}smartphonekey/")]


class CompatSchemaView(SpectacularAPIView):
    custom_settings = {
        "TITLE": "Keyhouse SmartphoneKey compatibility API",
        "DESCRIPTION": "SmartphoneKey's AddAccessibleLock (seed 003) served by Keyhouse; see docs/INTEGRATIONS.md.",
        "SCHEMA_PATH_PREFIX": "",
        "PREPROCESSING_HOOKS": ["apps.integrations.smartphonekey.compat.schema.only_compat"],
        "POSTPROCESSING_HOOKS": ["apps.integrations.smartphonekey.compat.schema.require_bodies"],
        "APPEND_COMPONENTS": {"securitySchemes": SECURITY_SCHEMES},
    }
