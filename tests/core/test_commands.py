from io import StringIO

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from apps.accounts.models import ApiKey, User
from tests.factories import directory as d

pytestmark = pytest.mark.django_db


def _run(*args, **env) -> str:
    out = StringIO()
    call_command(*args, stdout=out)
    return out.getvalue()


def test_seed_demo_is_idempotent():
    first = _run("seed_demo")
    counts = (User.objects.count(), ApiKey.objects.count())
    second = _run("seed_demo")
    assert (User.objects.count(), ApiKey.objects.count()) == counts
    assert "khk_" in first and "khk_" not in second  # the secret is printed once


def test_admin_ensure_prints_a_password_once_and_it_works(monkeypatch):
    monkeypatch.delenv("KEYHOUSE_ADMIN_PASSWORD", raising=False)
    output = _run("admin_ensure")
    password = output.split(" / ")[1].split()[0]
    admin = User.objects.get(email="admin@keyhouse.local")
    assert admin.is_staff and admin.check_password(password)
    assert password not in _run("admin_ensure")


def test_admin_ensure_takes_the_password_from_the_environment(monkeypatch):
    monkeypatch.setenv("KEYHOUSE_ADMIN_PASSWORD", "from-the-env-123")
    output = _run("admin_ensure")
    assert "from-the-env-123" not in output
    assert User.objects.get(email="admin@keyhouse.local").check_password("from-the-env-123")


def test_apikey_create_command_prints_a_working_secret(client):
    output = _run("apikey_create", "CLI key", "--permission", "owner")
    secret = output.split("secret:")[1].split()[0]
    assert client.get("/api/v1/api-keys", HTTP_AUTHORIZATION=f"Bearer {secret}").status_code == 200


def test_events_sweep_command_runs():
    assert "event(s)" in _run("events_sweep", "--now")


def test_apikey_create_command_refuses_me():
    person = d.user_create()
    with pytest.raises(CommandError, match="cannot be granted"):
        _run("apikey_create", "As them", "--permission", f"me:user={person.pk}")
