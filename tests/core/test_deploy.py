"""Deployment settings: `check --deploy` is clean with DEBUG off, and the browser headers hold."""

import base64
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]

PRODUCTION_ENV = {
    "DEBUG": "false",
    "SECRET_KEY": "test-only-secret-key-for-the-deploy-check-0123456789-abcdefgh",
    "KEYHOUSE_SECRET_PEPPERS": "1:" + "p" * 32,
    "KEYHOUSE_FIRMWARE_SIGNING_KEY": base64.b64encode(bytes(range(32))).decode(),
    "KEYHOUSE_KEK_RING": "1:" + base64.b64encode(bytes(range(1, 33))).decode(),
    "REDIS_URL": "redis://127.0.0.1:6379/0",  # read only at use: the check never connects
    "ALLOWED_HOSTS": "keyhouse.example.com",
}


def _manage(*args, **env) -> subprocess.CompletedProcess:
    inherited = {k: v for k, v in os.environ.items() if not k.startswith(("SECURE_", "DATABASE_URL"))}
    for name in ("DEBUG", "DJANGO_ALLOW_ASYNC_UNSAFE"):  # the browser tests set the latter
        inherited.pop(name, None)
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env={**inherited, **PRODUCTION_ENV, **env},
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_check_deploy_is_clean_with_debug_off(tmp_path):
    result = _manage("check", "--deploy", "--fail-level", "WARNING", KEYHOUSE_VAR_DIR=str(tmp_path))
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout


def test_a_malformed_proxy_header_setting_stops_start_up(tmp_path):
    result = _manage("check", KEYHOUSE_VAR_DIR=str(tmp_path), SECURE_PROXY_SSL_HEADER="X-Forwarded-Proto")
    assert result.returncode != 0
    assert "SECURE_PROXY_SSL_HEADER must look like HTTP_X_FORWARDED_PROTO:https" in result.stderr


@pytest.mark.django_db
def test_pages_carry_the_browser_security_headers(client):
    response = client.get("/admin/login/")
    assert response.status_code == 200
    policy = dict(
        directive.strip().split(" ", 1) for directive in response.headers["Content-Security-Policy"].split(";")
    )
    assert policy["script-src"] == "'self'"
    assert policy["default-src"] == "'self'"
    assert policy["frame-ancestors"] == "'none'"
    assert policy["object-src"] == "'none'"
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["Referrer-Policy"] == "same-origin"
    assert response.headers["X-Frame-Options"] == "DENY"


@pytest.mark.django_db
def test_plain_http_is_redirected_except_the_health_probe(client, settings):
    settings.SECURE_SSL_REDIRECT = True
    settings.SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    response = client.get("/admin/login/")
    assert response.status_code == 301
    assert response.headers["Location"] == "https://testserver/admin/login/"
    assert client.get("/healthz").status_code == 200
    assert client.get("/admin/login/", headers={"X-Forwarded-Proto": "https"}).status_code == 200
