import uuid

import pytest

from apps.accounts.models import ApiKey, PermissionGrant
from apps.events.models import Event
from tests.factories import directory as d

pytestmark = pytest.mark.django_db


def test_create_returns_the_secret_once_and_the_spec_fields(owner_client, api_client):
    property_id = str(d.property_create().pk)
    response = owner_client.post(
        "/api/v1/api-keys",
        {"displayName": "Front desk", "apiPermissions": [{"permission": "manage-access", "propertyId": property_id}]},
        format="json",
    )
    assert response.status_code == 200
    data = response.json()["data"]
    assert data["secret"].startswith("khk_")
    assert data["apiPermissions"] == [{"permission": "manage-access", "propertyId": property_id, "userId": None}]
    for field in ("apiKeyId", "displayName", "type", "typeState", "createdAt", "lastModifiedAt", "lastModifiedBy"):
        assert field in data
    assert data["type"] == "apiKey" and data["typeState"] == "active"

    fetched = owner_client.get(f"/api/v1/api-keys/{data['apiKeyId']}").json()["data"]
    assert "secret" not in fetched
    listed = owner_client.get("/api/v1/api-keys").json()["data"]["apiKeys"]
    assert all("secret" not in item for item in listed)
    assert Event.objects.filter(event_name="api_key.created", api_key_id=data["apiKeyId"]).exists()


def test_revoke_stops_the_key_and_hides_it(owner_client, api_client):
    data = owner_client.post(
        "/api/v1/api-keys", {"displayName": "tmp", "apiPermissions": [{"permission": "support"}]}, format="json"
    ).json()["data"]
    response = owner_client.delete(f"/api/v1/api-keys/{data['apiKeyId']}")
    assert response.status_code == 200
    assert response.json()["data"]["typeState"] == "deleted"
    assert api_client.get("/api/v1/api-keys", HTTP_X_API_KEY=data["secret"]).status_code == 401
    assert owner_client.get(f"/api/v1/api-keys/{data['apiKeyId']}").status_code == 404
    assert Event.objects.filter(event_name="api_key.revoked").count() == 1


def test_failed_create_leaves_no_key_no_grant_no_event(owner_client, monkeypatch):
    before = (ApiKey.objects.count(), PermissionGrant.objects.count(), Event.objects.count())

    def broken(**kwargs):
        raise RuntimeError("grants table unavailable")

    monkeypatch.setattr("apps.accounts.services.api_keys._grants_replace", broken)
    response = owner_client.post(
        "/api/v1/api-keys", {"displayName": "x", "apiPermissions": [{"permission": "owner"}]}, format="json"
    )
    assert response.status_code == 500
    assert (ApiKey.objects.count(), PermissionGrant.objects.count(), Event.objects.count()) == before


def test_empty_permissions_are_refused(owner_client):
    response = owner_client.post("/api/v1/api-keys", {"displayName": "x", "apiPermissions": []}, format="json")
    assert response.status_code == 400
    assert "apiPermissions" in response.json()["data"]["fields"]


def test_a_key_cannot_be_made_to_act_as_a_person(owner_client, client_for):
    """An owner key asked for a key holding `me` for someone (audit: with it, it provisioned a
    phone in that person's account and changed their sign-in email). Refused, nothing made."""
    person = d.user_create(email="person@example.test")
    before = (ApiKey.objects.count(), PermissionGrant.objects.count(), Event.objects.count())
    body = {"displayName": "as them", "apiPermissions": [{"permission": "me", "userId": str(person.pk)}]}
    refused = d.refused(owner_client.post("/api/v1/api-keys", body, format="json"), 400)
    assert refused["data"]["fields"] == {
        "apiPermissions[0].permission": ["`me` is implicit for every user and cannot be granted."]
    }
    assert (ApiKey.objects.count(), PermissionGrant.objects.count(), Event.objects.count()) == before


def test_a_key_cannot_name_a_property_or_person_that_does_not_exist(owner_client):
    ghost = str(uuid.uuid4())
    body = {
        "displayName": "ghost",
        "apiPermissions": [{"permission": "support", "propertyId": ghost}, {"permission": "support", "userId": ghost}],
    }
    refused = d.refused(owner_client.post("/api/v1/api-keys", body, format="json"), 400)
    assert refused["data"]["fields"] == {
        "apiPermissions[0].propertyId": ["No such property."],
        "apiPermissions[1].userId": ["No such user."],
    }
    assert not ApiKey.objects.filter(display_name="ghost").exists()


def test_a_stored_me_grant_on_a_key_authorises_nothing(client_for):
    """Keys made before the fix may hold `me` for someone: it no longer lets them act as that
    person (read their account, provision a phone in it)."""
    person = d.user_create(email="person@example.test")
    client, api_key = client_for("support")
    PermissionGrant.objects.create(api_key=api_key, permission="me", scope_user_id=person.pk)
    device = {"deviceType": "ios", "displayName": "Not theirs"}
    assert client.post(f"/api/v1/users/{person.pk}/devices", device, format="json").status_code == 403
    assert client.get("/api/v1/me").status_code == 403
