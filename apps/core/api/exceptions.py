"""One exception handler: every error raised under the API becomes an enveloped ErrorOutput.

Error shape (docs/API.md "Errors"): `error` is one readable line that names the offending
fields (`"displayName: This field is required."`), and `data.fields` maps each field path
(camelCase, dotted for nested, `[i]` for list items) to its messages.
"""

import logging

from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import Http404
from rest_framework import exceptions
from rest_framework.serializers import as_serializer_error
from rest_framework.views import set_rollback

from apps.core.api.envelope import error_response
from apps.core.api.middleware import DATABASE_RETRY_AFTER_SECONDS, DATABASE_UNAVAILABLE, database_unavailable
from apps.core.exceptions import ApplicationError

logger = logging.getLogger("keyhouse.api")

NON_FIELD = "non_field_errors"


def flatten_errors(detail, prefix: str = "") -> dict[str, list[str]]:
    """DRF error detail (nested dicts/lists) → {"a.b[0].c": ["message", ...]}."""
    flat: dict[str, list[str]] = {}
    if isinstance(detail, dict):
        for key, value in detail.items():
            name = prefix if key == NON_FIELD else (f"{prefix}.{key}" if prefix else str(key))
            for path, messages in flatten_errors(value, name).items():
                flat.setdefault(path, []).extend(messages)
    elif isinstance(detail, list):
        if all(not isinstance(item, (dict, list)) for item in detail):
            flat.setdefault(prefix, []).extend(str(item) for item in detail)
        else:
            for index, item in enumerate(detail):
                flat.update(flatten_errors(item, f"{prefix}[{index}]"))
    else:
        flat.setdefault(prefix, []).append(str(detail))
    return flat


def describe_fields(fields: dict[str, list[str]]) -> str:
    """{"displayName": ["This field is required."]} → "displayName: This field is required." """
    parts = []
    for path, messages in fields.items():
        text = " ".join(messages)
        parts.append(f"{path}: {text}" if path else text)
    return "; ".join(parts) or "invalid input"


def validation_error_response(fields: dict[str, list[str]], *, status: int = 400, extra: dict | None = None):
    return error_response(status, describe_fields(fields), data={"fields": fields, **(extra or {})})


def exception_handler(exc, context):
    """DRF EXCEPTION_HANDLER: map any exception to an enveloped error response."""
    if isinstance(exc, Http404):
        exc = exceptions.NotFound()
    elif isinstance(exc, DjangoPermissionDenied):
        exc = exceptions.PermissionDenied()
    elif isinstance(exc, DjangoValidationError):
        exc = exceptions.ValidationError(as_serializer_error(exc))

    if isinstance(exc, ApplicationError):
        set_rollback()
        if exc.fields:
            return validation_error_response(exc.fields, status=exc.status, extra=exc.extra)
        return error_response(exc.status, exc.message, data=exc.extra)

    if database_unavailable(exc):
        set_rollback()
        logger.warning("database unavailable", exc_info=True)
        return error_response(503, DATABASE_UNAVAILABLE, headers={"Retry-After": str(DATABASE_RETRY_AFTER_SECONDS)})

    if not isinstance(exc, exceptions.APIException):
        view = context.get("view")
        logger.exception("unhandled error in %s", type(view).__name__ if view else "API")
        set_rollback()
        return error_response(500, "internal server error")

    set_rollback()
    headers = {}
    if getattr(exc, "auth_header", None):
        headers["WWW-Authenticate"] = exc.auth_header
    if getattr(exc, "wait", None):
        headers["Retry-After"] = str(int(exc.wait) + (0 if float(exc.wait).is_integer() else 1))

    if isinstance(exc, exceptions.ValidationError):
        return validation_error_response(flatten_errors(exc.detail), status=exc.status_code)
    if isinstance(exc, exceptions.Throttled):
        return error_response(
            429, f"too many requests; retry after {headers.get('Retry-After', '1')} s", headers=headers
        )
    detail = exc.detail
    message = str(detail) if not isinstance(detail, (dict, list)) else describe_fields(flatten_errors(detail))
    return error_response(exc.status_code, message, headers=headers)
