"""Faults of the things Keyhouse leans on: the cache (Redis), the broker (Redis), the database.

Each is made real, not mocked: a Redis URL on a port where nothing listens, a database
connection to a port where nothing listens. What users must see:

- cache down: the API keeps answering; rate limits fail open and say so in the log;
- broker down: writes succeed, their events wait in the outbox, and the sweep delivers them
  once the broker is back;
- database down: a 503 in the envelope with Retry-After (a page says it in words), never a
  500 and a stack trace; nothing half-written.
"""

import logging
import socket

import pytest
from django.core.management import call_command
from django.db import connection
from django.test import override_settings

from apps.core.api import throttling
from apps.events.models import Event
from config.celery import app as celery_app
from tests.factories import directory as d

NOBODY_LISTENS = "127.0.0.1"


def closed_port() -> int:
    """A loopback port nothing listens on (bound, then released)."""
    with socket.socket() as sock:
        sock.bind((NOBODY_LISTENS, 0))
        return sock.getsockname()[1]


@pytest.mark.django_db
def test_rate_limits_fail_open_while_the_cache_is_down(owner_client, caplog, monkeypatch):
    monkeypatch.setattr(throttling, "_last_warning", 0.0)
    redis_down = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": f"redis://{NOBODY_LISTENS}:{closed_port()}/0",
        }
    }
    with override_settings(CACHES=redis_down), caplog.at_level(logging.WARNING, logger="keyhouse.api"):
        first = owner_client.get("/api/v1/properties")
        second = owner_client.get("/api/v1/properties")
    assert (first.status_code, second.status_code) == (200, 200)
    warnings = [r for r in caplog.records if "rate-limit store (cache) unavailable" in r.getMessage()]
    assert len(warnings) == 1, "the outage is logged once a minute, not once a request"


@pytest.fixture
def broker_down(settings):
    """Celery sends to a Redis where nothing listens (not eagerly) until the test ends. Celery
    reads the CELERY_* Django settings at each use (config/celery.py); its pools, made for the
    old broker, are forgotten on the way in and out."""
    settings.CELERY_TASK_ALWAYS_EAGER = False
    settings.CELERY_BROKER_URL = f"redis://{NOBODY_LISTENS}:{closed_port()}/0"
    settings.CELERY_BROKER_CONNECTION_TIMEOUT = 1
    settings.CELERY_TASK_PUBLISH_RETRY_POLICY = {"max_retries": 1, "interval_start": 0, "interval_step": 0.1}
    _new_connections()
    assert not celery_app.conf.task_always_eager and str(celery_app.conf.broker_url).endswith("/0")
    yield
    _new_connections()


def _new_connections() -> None:
    """Forget the app's connection and producer pools, so the next send connects to the broker
    the settings name now. Not closed: kombu's global pools share them with later tests."""
    celery_app._pool = None
    celery_app.amqp._producer_pool = None


@pytest.mark.django_db(transaction=True)
def test_writes_succeed_while_the_broker_is_down_and_the_sweep_delivers_later(owner_client, broker_down, caplog):
    prop = d.property_create(display_name="Harbour View")
    with caplog.at_level(logging.WARNING, logger="keyhouse.events"):
        response = owner_client.post(
            f"/api/v1/properties/{prop.pk}/areas", {"displayName": "Gym", "areaType": "common"}, format="json"
        )
    area = d.ok(response)
    assert area["displayName"] == "Gym"
    waiting = Event.objects.filter(event_name="area.created", area_id=area["areaId"]).get()
    assert waiting.processed_at is None, "nothing could have processed it: the broker is down"
    assert any("could not enqueue event" in r.getMessage() for r in caplog.records)

    call_command("events_sweep", "--now")  # the sweep, once the broker (or this process) can run it

    waiting.refresh_from_db()
    assert waiting.processed_at is not None and waiting.last_error == ""


@pytest.fixture
def database_down():
    """The default connection points at a port where nothing listens (PostgreSQL only: closing
    SQLite's in-memory test database would destroy it)."""
    if connection.vendor != "postgresql":
        pytest.skip("needs PostgreSQL (DATABASE_URL): SQLite's in-memory test database cannot be taken away")
    saved = dict(connection.settings_dict)
    connection.close()
    connection.settings_dict.update(HOST=NOBODY_LISTENS, PORT=str(closed_port()))
    yield
    connection.close()
    connection.settings_dict.clear()
    connection.settings_dict.update(saved)


@pytest.mark.django_db(transaction=True)
def test_an_api_call_while_the_database_is_down_is_a_503_to_retry(owner_client, database_down):
    response = owner_client.get("/api/v1/properties")
    assert response.status_code == 503
    assert response.headers["Retry-After"] == "5"
    assert response.json() == {
        "success": False,
        "error": "the database is unavailable; nothing was changed, retry in 5 s",
        "data": {},
    }


@pytest.mark.django_db(transaction=True)
def test_a_failure_before_the_view_is_a_503_too(owner_client, database_down):
    """The idempotency middleware reads the database before any view runs (Django's 500 handler)."""
    owner_client.raise_request_exception = False  # as in production: the handler's answer, not the exception
    response = owner_client.post("/api/v1/properties", {"displayName": "X"}, format="json", HTTP_IDEMPOTENCY_KEY="k-1")
    assert response.status_code == 503
    assert response.json()["error"] == "the database is unavailable; nothing was changed, retry in 5 s"


@pytest.mark.django_db(transaction=True)
def test_an_admin_page_while_the_database_is_down_says_so(staff_client, database_down):
    staff_client.raise_request_exception = False
    response = staff_client.get("/admin/")
    assert response.status_code == 503
    assert response.headers["Retry-After"] == "5"
    assert "cannot reach its database" in response.content.decode()
