"""Keeps /api/ JSON all the way down: Django's own 404/500 pages, CSRF failures and oversized
bodies come back in the envelope, never as HTML; nor does APPEND_SLASH redirect (or, with
DEBUG, crash on) a write to an API path."""

import json
import logging
import re

from django.conf import settings
from django.db import InterfaceError, OperationalError
from django.http import HttpResponse
from django.middleware.common import CommonMiddleware

from apps.core.api.envelope import envelope
from apps.core.written import event_ids_collected

logger = logging.getLogger("keyhouse.api")

API_PREFIX = "/api/"
# Routes with their own limit (settings.KEYHOUSE_API_BODY_LIMIT_ROUTES) take a file as multipart:
# allow for the boundaries and part headers around it; the view checks the file's exact size.
MULTIPART_OVERHEAD_BYTES = 64 * 1024

_REASONS = {
    400: "bad request",
    401: "authentication required",
    403: "insufficient permission",
    404: "not found",
    405: "method not allowed",
    411: "length required",
    413: "request body too large",
    500: "internal server error",
}


def json_error(status: int, message: str | None = None) -> HttpResponse:
    body = envelope(error=message or _REASONS.get(status, "error"), success=False)
    return HttpResponse(json.dumps(body), status=status, content_type="application/json")


# A database that cannot be reached or dropped the connection (restart, failover, network):
# the request's transaction is gone, so nothing was changed and the client may retry.
DATABASE_RETRY_AFTER_SECONDS = 5
DATABASE_UNAVAILABLE = f"the database is unavailable; nothing was changed, retry in {DATABASE_RETRY_AFTER_SECONDS} s"


def database_unavailable(exc: BaseException | None) -> bool:
    return isinstance(exc, (OperationalError, InterfaceError))


def database_unavailable_json() -> HttpResponse:
    response = json_error(503, DATABASE_UNAVAILABLE)
    response["Retry-After"] = str(DATABASE_RETRY_AFTER_SECONDS)
    return response


def body_limit(path: str) -> int:
    """The largest request body accepted on `path` (bytes)."""
    for pattern, setting_name in getattr(settings, "KEYHOUSE_API_BODY_LIMIT_ROUTES", ()):
        if re.match(pattern, path):
            return getattr(settings, setting_name) + MULTIPART_OVERHEAD_BYTES
    return settings.KEYHOUSE_API_MAX_BODY_BYTES


class ApiEnvelopeMiddleware:
    """Enforces the body-size limit and envelopes non-JSON errors for paths under /api/.

    A body must come with a Content-Length: Django reads only that many bytes, so a chunked
    body (`Transfer-Encoding`, which gunicorn passes on without a length) was read as empty
    and valid data answered "field required". It is a 411 instead."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if not request.path.startswith(API_PREFIX):
            return self.get_response(request)
        if "HTTP_TRANSFER_ENCODING" in request.META:
            return json_error(411, "length required: send the body with a Content-Length header, not chunked")
        limit = body_limit(request.path)
        try:
            length = int(request.META.get("CONTENT_LENGTH") or 0)
        except ValueError:
            return json_error(400, "invalid Content-Length header")
        if length > limit:
            return json_error(413, f"request body too large: {length} bytes, limit {limit}")
        with event_ids_collected():  # the envelope answers a write's `eventIds` (rendered in here)
            response = self.get_response(request)
        content_type = response.get("Content-Type", "")
        if response.status_code >= 400 and not content_type.startswith("application/json"):
            return json_error(response.status_code)
        return response

    def process_exception(self, request, exception):
        if not request.path.startswith(API_PREFIX):
            return None
        if database_unavailable(exception):
            logger.warning("database unavailable on %s %s", request.method, request.path, exc_info=True)
            return database_unavailable_json()
        logger.exception("unhandled error on %s %s", request.method, request.path)
        return json_error(500)


class ApiCommonMiddleware(CommonMiddleware):
    """Django's CommonMiddleware, without the APPEND_SLASH redirect for API calls other than reads.

    A POST to `/api/v1/schema` (the route is `schema/`) was a 301 that clients follow as a GET,
    dropping the body, or with DEBUG on a RuntimeError (500). Under /api/ only GET and HEAD are
    redirected; any other method gets the 404 of the path it named, in the envelope."""

    def should_redirect_with_slash(self, request):
        if request.path.startswith(API_PREFIX) and request.method not in ("GET", "HEAD"):
            return False
        return super().should_redirect_with_slash(request)
