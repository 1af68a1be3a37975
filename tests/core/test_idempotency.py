import datetime as dt

import pytest
from django.utils import timezone

from apps.accounts.models import ApiKey
from apps.core.api.idempotency import idempotency_purge
from apps.core.models import IdempotencyRecord

pytestmark = pytest.mark.django_db

BODY = {"displayName": "Door team", "apiPermissions": [{"permission": "support"}]}


def _post(client, body=BODY, key="abc-123"):
    return client.post("/api/v1/api-keys", body, format="json", HTTP_IDEMPOTENCY_KEY=key)


def test_same_key_same_body_replays_without_doing_the_work_again(owner_client):
    first = _post(owner_client)
    second = _post(owner_client)
    assert first.status_code == second.status_code == 200
    assert second.json() == first.json()
    assert second["Idempotent-Replayed"] == "true"
    assert ApiKey.objects.filter(display_name="Door team").count() == 1


def test_same_key_different_body_is_rejected(owner_client):
    _post(owner_client)
    response = _post(owner_client, {**BODY, "displayName": "Other"})
    assert response.status_code == 422
    assert "different request" in response.json()["error"]
    assert not ApiKey.objects.filter(display_name="Other").exists()


def test_keys_belong_to_their_caller(client_for):
    alice, _ = client_for("owner")
    bob, _ = client_for("owner")
    assert _post(alice).status_code == 200
    assert _post(bob).status_code == 200
    assert ApiKey.objects.filter(display_name="Door team").count() == 2


def test_without_the_header_each_request_does_the_work(owner_client):
    owner_client.post("/api/v1/api-keys", BODY, format="json")
    owner_client.post("/api/v1/api-keys", BODY, format="json")
    assert ApiKey.objects.filter(display_name="Door team").count() == 2


def test_server_errors_are_not_stored_so_a_retry_runs(owner_client, monkeypatch):
    import apps.accounts.services.api_keys as services

    real = services._grants_replace
    monkeypatch.setattr(services, "_grants_replace", lambda **kw: (_ for _ in ()).throw(RuntimeError("boom")))
    assert _post(owner_client).status_code == 500
    monkeypatch.setattr(services, "_grants_replace", real)
    retry = _post(owner_client)
    assert retry.status_code == 200 and "Idempotent-Replayed" not in retry
    assert ApiKey.objects.filter(display_name="Door team").count() == 1


def test_a_request_still_running_answers_409(owner_client, monkeypatch):
    import apps.accounts.api as api

    real_create, twin_status = api.services.api_key_create, []

    def create_while_a_twin_arrives(**kwargs):
        twin_status.append(_post(owner_client).status_code)  # same key, same body, first still running
        return real_create(**kwargs)

    monkeypatch.setattr(api.services, "api_key_create", create_while_a_twin_arrives)
    assert _post(owner_client).status_code == 200
    assert twin_status == [409]
    assert ApiKey.objects.filter(display_name="Door team").count() == 1


def test_expired_records_are_purged_and_the_key_can_be_reused(owner_client, settings):
    _post(owner_client)
    IdempotencyRecord.objects.update(created_at=timezone.now() - dt.timedelta(hours=25))
    assert idempotency_purge() == 1
    assert _post(owner_client).status_code == 200
    assert ApiKey.objects.filter(display_name="Door team").count() == 2


def test_over_long_key_is_400(owner_client):
    assert _post(owner_client, key="k" * 256).status_code == 400
