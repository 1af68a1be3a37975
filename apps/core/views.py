"""Endpoints outside the API proper: /healthz, the site root `/`, the API root `/api/v1/`, and
the 500 handler."""

import logging
import sys
from functools import lru_cache
from pathlib import Path

from django.conf import settings
from django.contrib.staticfiles import finders
from django.db import connection
from django.http import HttpResponse, HttpResponseRedirect, JsonResponse
from django.views import defaults
from django.views.decorators.cache import never_cache
from kombu import Connection

from apps.core.api.middleware import (
    API_PREFIX,
    DATABASE_RETRY_AFTER_SECONDS,
    database_unavailable,
    database_unavailable_json,
)

logger = logging.getLogger("keyhouse.health")


def _database_status() -> str:
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
        return "ok"
    except Exception as exc:  # noqa: BLE001 - any failure means "down"
        logger.warning("health: database down: %s", exc)
        return "down"


def _broker_status() -> str:
    if settings.CELERY_TASK_ALWAYS_EAGER:
        return "eager"
    try:
        with Connection(settings.CELERY_BROKER_URL, connect_timeout=2) as conn:
            conn.ensure_connection(max_retries=1, timeout=2)
        return "ok"
    except Exception as exc:  # noqa: BLE001
        logger.warning("health: broker down: %s", exc)
        return "down"


@never_cache
def healthz(request):
    """200 when the database and the broker answer, 503 when one does not."""
    checks = {"database": _database_status(), "broker": _broker_status()}
    healthy = all(value != "down" for value in checks.values())
    return JsonResponse({"status": "ok" if healthy else "down", **checks}, status=200 if healthy else 503)


def server_error(request):
    """handler500: a database that is down (restarting, failing over) is a 503 to retry, not a
    500; for the API in the envelope, for pages in words. Anything else: Django's 500 page."""
    if not database_unavailable(sys.exc_info()[1]):
        return defaults.server_error(request)
    if request.path.startswith(API_PREFIX):
        return database_unavailable_json()
    return HttpResponse(
        "Keyhouse cannot reach its database right now. Nothing was changed; try again in a few seconds.",
        status=503,
        content_type="text/plain; charset=utf-8",
        headers={"Retry-After": str(DATABASE_RETRY_AFTER_SECONDS)},
    )


# The top resources of /api/v1/ (docs/API.md lists every operation; the schema has them all).
API_ROOT_RESOURCES = {
    "properties": "properties",
    "locks": "locks",
    "users": "users",
    "me": "me",
    "apiKeys": "api-keys",
    "events": "events",
    "integrationAccounts": "integrations/accounts",
}


def api_root(request):
    """GET /api/v1/: where the documentation, the schema and the top resources are, in the
    Keyhouse envelope. Public like the docs; every resource still asks for its credential."""
    base = request.build_absolute_uri("/api/v1/")
    data = {
        "docs": base + "docs/",
        "redoc": base + "redoc/",
        "schema": base + "schema/",
        "resources": {name: base + path for name, path in API_ROOT_RESOURCES.items()},
    }
    return JsonResponse({"success": True, "error": None, "data": data})


def home(request):
    """`/` goes to the staff admin (residents have /portal/, programs /api/v1/)."""
    return HttpResponseRedirect("/admin/")


REDOC_BUNDLE = "drf_spectacular_sidecar/redoc/bundles/redoc.standalone.js"
REDOC_FOREIGN_LOGO = b"https://cdn.redoc.ly/redoc/logo-mini.svg"


@lru_cache(maxsize=1)
def _redoc_bundle() -> bytes:
    # ReDoc's sidebar always loads its vendor's logo from a CDN, which img-src 'self' refuses
    # (a CSP violation on every visit). "data:," fails to load, and ReDoc then hides the logo.
    return Path(finders.find(REDOC_BUNDLE)).read_bytes().replace(REDOC_FOREIGN_LOGO, b"data:,")


def redoc_bundle(request):
    """The sidecar's ReDoc bundle, served without the foreign logo (docs/API.md)."""
    response = HttpResponse(_redoc_bundle(), content_type="text/javascript; charset=utf-8")
    response["Cache-Control"] = "public, max-age=86400"
    return response
