"""Start-up warnings: production without Redis counts rate limits per process (docs/API.md)."""

import importlib
import logging
import sys

from django.core.checks import run_checks


def _warnings(settings, *, debug: bool, redis_url: str) -> list:
    settings.DEBUG, settings.REDIS_URL = debug, redis_url
    return [message for message in run_checks() if message.id == "keyhouse.W001"]


def test_debug_off_without_redis_warns_that_limits_are_per_process(settings):
    [warning] = _warnings(settings, debug=False, redis_url="")
    assert warning.is_serious() is False  # a warning: it does not stop the process
    assert "REDIS_URL" in warning.msg and "rate limits" in warning.msg
    # not in development, and not once Redis is configured
    assert _warnings(settings, debug=True, redis_url="") == []
    assert _warnings(settings, debug=False, redis_url="redis://127.0.0.1:6379/0") == []


def test_the_web_process_logs_the_warning_when_it_starts(settings, caplog, monkeypatch):
    settings.DEBUG, settings.REDIS_URL = False, ""
    # gunicorn imports config.wsgi; building the handler again (django.setup) is not the point here
    monkeypatch.setattr("django.core.wsgi.get_wsgi_application", lambda: "application")
    monkeypatch.delitem(sys.modules, "config.wsgi", raising=False)
    with caplog.at_level(logging.WARNING, logger="keyhouse.startup"):
        importlib.import_module("config.wsgi")
    assert [r.getMessage().split()[0] for r in caplog.records if r.name == "keyhouse.startup"] == ["keyhouse.W001"]
