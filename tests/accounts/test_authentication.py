import datetime as dt

import pytest
from django.utils import timezone
from rest_framework.test import APIClient

from apps.accounts import services
from apps.accounts.models import ApiKey
from apps.core.actors import SYSTEM
from tests.factories.accounts import api_key_with

pytestmark = pytest.mark.django_db


def test_bearer_and_x_api_key_headers_both_authenticate():
    _, secret = api_key_with("owner")
    assert APIClient().get("/api/v1/api-keys", HTTP_AUTHORIZATION=f"Bearer {secret}").status_code == 200
    assert APIClient().get("/api/v1/api-keys", HTTP_X_API_KEY=secret).status_code == 200


@pytest.mark.parametrize("header", ["Bearer khk_000000000000_nope", "Bearer nonsense", "Basic dXNlcjpwYXNz", "Bearer "])
def test_unknown_or_malformed_credentials_are_401(header):
    response = APIClient().get("/api/v1/api-keys", HTTP_AUTHORIZATION=header)
    assert response.status_code == 401
    assert response.json()["success"] is False


def test_right_prefix_wrong_secret_is_401():
    api_key, secret = api_key_with("owner")
    forged = f"khk_{api_key.prefix}_{'x' * 43}"
    assert APIClient().get("/api/v1/api-keys", HTTP_AUTHORIZATION=f"Bearer {forged}").status_code == 401
    assert APIClient().get("/api/v1/api-keys", HTTP_AUTHORIZATION=f"Bearer {secret}").status_code == 200


def test_revoked_key_is_401():
    api_key, secret = api_key_with("owner")
    services.api_key_revoke(api_key=api_key, actor=SYSTEM)
    assert APIClient().get("/api/v1/api-keys", HTTP_AUTHORIZATION=f"Bearer {secret}").status_code == 401


def test_secret_is_stored_only_as_a_keyed_hash():
    api_key, secret = api_key_with("owner")
    row = ApiKey.objects.filter(pk=api_key.pk).values().get()
    assert secret not in str(row)
    assert row["digest"] != secret and len(row["digest"]) == 64
    assert secret.startswith(f"khk_{row['prefix']}_")


def test_last_used_at_is_tracked():
    api_key, secret = api_key_with("owner")
    assert api_key.last_used_at is None
    APIClient().get("/api/v1/api-keys", HTTP_AUTHORIZATION=f"Bearer {secret}")
    api_key.refresh_from_db()
    assert timezone.now() - api_key.last_used_at < dt.timedelta(seconds=5)


def test_rotating_the_pepper_keeps_old_keys_working_and_rehashes_them(settings):
    settings.KEYHOUSE_SECRET_PEPPERS = {1: "first-pepper-0123456789"}
    api_key, secret = api_key_with("owner")
    assert api_key.pepper_id == 1
    settings.KEYHOUSE_SECRET_PEPPERS = {1: "first-pepper-0123456789", 2: "second-pepper-0123456789"}
    assert APIClient().get("/api/v1/api-keys", HTTP_AUTHORIZATION=f"Bearer {secret}").status_code == 200
    api_key.refresh_from_db()
    assert api_key.pepper_id == 2
    settings.KEYHOUSE_SECRET_PEPPERS = {2: "second-pepper-0123456789"}  # old pepper retired
    assert APIClient().get("/api/v1/api-keys", HTTP_AUTHORIZATION=f"Bearer {secret}").status_code == 200


def test_secret_never_reaches_the_logs(caplog):
    _, secret = api_key_with("owner")
    with caplog.at_level("DEBUG"):
        APIClient().get("/api/v1/api-keys", HTTP_AUTHORIZATION=f"Bearer {secret}")
        APIClient().get("/api/v1/nowhere", HTTP_AUTHORIZATION=f"Bearer {secret}")
    assert secret not in caplog.text
