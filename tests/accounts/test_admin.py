"""Staff admin for API keys and users: writes go through the services (events appended)."""

import re

import pytest
from rest_framework.test import APIClient

from apps.accounts.models import ApiKey, User
from apps.events.models import Event

pytestmark = pytest.mark.django_db

INLINE = "grants"


def _inline(rows: list[dict], initial: int = 0) -> dict:
    data = {
        f"{INLINE}-TOTAL_FORMS": str(len(rows)),
        f"{INLINE}-INITIAL_FORMS": str(initial),
        f"{INLINE}-MIN_NUM_FORMS": "0",
        f"{INLINE}-MAX_NUM_FORMS": "1000",
    }
    for index, row in enumerate(rows):
        for field, value in row.items():
            data[f"{INLINE}-{index}-{field}"] = value
    return data


def test_admin_creates_a_key_and_shows_the_secret_once(staff_client):
    response = staff_client.post(
        "/admin/accounts/apikey/add/", {"display_name": "Lobby kiosk", **_inline([{"permission": "support"}])}
    )
    assert response.status_code == 200
    secret = re.search(r'id="api-key-secret"[^>]*>(khk_[^<]+)<', response.content.decode()).group(1)
    api_key = ApiKey.objects.get(display_name="Lobby kiosk")
    assert [g.permission for g in api_key.grants.all()] == ["support"]
    assert Event.objects.filter(event_name="api_key.created", api_key_id=api_key.pk).exists()
    assert api_key.last_modified_by.startswith("staff:")

    change_page = staff_client.get(f"/admin/accounts/apikey/{api_key.pk}/change/").content.decode()
    assert secret not in change_page
    assert APIClient().get("/api/v1/api-keys", HTTP_X_API_KEY=secret).status_code == 403  # support ≠ owner


def test_admin_revoke_action(staff_client):
    staff_client.post("/admin/accounts/apikey/add/", {"display_name": "Old", **_inline([{"permission": "owner"}])})
    api_key = ApiKey.objects.get(display_name="Old")
    response = staff_client.post("/admin/accounts/apikey/", {"action": "revoke", "_selected_action": [api_key.pk]})
    assert response.status_code == 302
    api_key.refresh_from_db()
    assert api_key.revoked_at is not None and api_key.type_state == "deleted"
    assert Event.objects.filter(event_name="api_key.revoked").count() == 1


def test_admin_edit_replaces_grants_through_the_service(staff_client):
    staff_client.post("/admin/accounts/apikey/add/", {"display_name": "K", **_inline([{"permission": "owner"}])})
    api_key = ApiKey.objects.get(display_name="K")
    grant = api_key.grants.get()
    data = {
        "display_name": "K2",
        **_inline([{"id": grant.pk, "api_key": api_key.pk, "permission": "support"}], initial=1),
    }
    response = staff_client.post(f"/admin/accounts/apikey/{api_key.pk}/change/", data)
    assert response.status_code == 302, response.content.decode()[:2000]
    api_key.refresh_from_db()
    assert api_key.display_name == "K2"
    assert [g.permission for g in api_key.grants.all()] == ["support"]
    assert Event.objects.filter(event_name="api_key.updated").count() == 1


def test_admin_adds_a_user_through_the_service(staff_client):
    response = staff_client.post(
        "/admin/accounts/user/add/", {"email": "New@Example.test", "display_name": "New Person", "password": ""}
    )
    assert response.status_code == 302
    user = User.objects.get(email="new@example.test")
    assert not user.has_usable_password()
    assert Event.objects.filter(event_name="user.created", user_id=user.pk).exists()


def test_admin_requires_staff(client, db):
    response = client.get("/admin/")
    assert response.status_code == 302 and "/admin/login/" in response["Location"]


def test_dashboard_shows_keyhouse_figures(staff_client):
    page = staff_client.get("/admin/").content.decode()
    assert "Keyhouse dashboard" in page
    assert "Events waiting to be processed" in page
    assert '<a href="/admin/access/accessgrant/explain/">Explain access</a>' in page


def test_admin_refuses_a_key_acting_as_a_person_on_the_row_at_fault(staff_client):
    person = User.objects.create_user(email="person@example.test", display_name="Person")
    rows = [{"permission": "support"}, {"permission": "me", "scope_user_id": str(person.pk)}]
    response = staff_client.post("/admin/accounts/apikey/add/", {"display_name": "As them", **_inline(rows)})
    assert response.status_code == 200  # the form again, not a redirect
    page = response.content.decode()
    assert "Select a valid choice. me is not one of the available choices." in page
    assert '<option value="me"' not in staff_client.get("/admin/accounts/apikey/add/").content.decode()
    ghost = {"permission": "support", "property_id": "01a24156-7df4-7522-8aa9-2ab10a1ede02"}
    response = staff_client.post("/admin/accounts/apikey/add/", {"display_name": "Ghost", **_inline([ghost])})
    assert response.status_code == 200 and "No such property." in response.content.decode()
    assert not ApiKey.objects.exists()
    assert not Event.objects.filter(event_name="api_key.created").exists()


def test_staff_flag_reads_as_admin_sign_in_not_building_staff(staff_client, staff_user):
    """Regression: "Is staff" read like the property's Staff group."""
    for url in ("/admin/accounts/user/add/", f"/admin/accounts/user/{staff_user.pk}/change/"):
        page = staff_client.get(url).content.decode()
        assert "May sign in to this admin" in page and "Is staff" not in page
        assert "Not the same as the property" in page and "Staff group, which is about doors" in page
    listing = staff_client.get("/admin/accounts/user/").content.decode()
    assert "Admin sign-in" in listing and "Is staff" not in listing
