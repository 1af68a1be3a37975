"""Every error under /api/ comes back in the envelope, with the right status."""

import json
import re
import uuid

import pytest

pytestmark = pytest.mark.django_db


def _body(response) -> dict:
    assert response["Content-Type"].startswith("application/json")
    body = json.loads(response.content)
    assert set(body) >= {"success", "error", "data"}
    return body


def test_no_credentials_is_401_with_a_bearer_challenge(api_client):
    response = api_client.get("/api/v1/api-keys")
    body = _body(response)
    assert response.status_code == 401
    assert body["success"] is False and body["error"]
    assert response["WWW-Authenticate"].startswith("Bearer")


def test_unknown_url_is_a_json_404(owner_client):
    response = owner_client.get("/api/v1/no-such-thing")
    assert response.status_code == 404
    assert _body(response) == {"success": False, "error": "not found", "data": {}}


def test_invalid_uuid_in_path_is_404_not_500(owner_client):
    response = owner_client.get("/api/v1/api-keys/not-a-uuid")
    assert response.status_code == 404
    assert _body(response)["success"] is False


def test_wrong_method_is_405(owner_client):
    response = owner_client.patch("/api/v1/api-keys", {}, format="json")
    assert response.status_code == 405
    assert "PATCH" in _body(response)["error"]


def test_malformed_json_is_400(owner_client):
    response = owner_client.post("/api/v1/api-keys", "{bad", content_type="application/json")
    assert response.status_code == 400
    assert "JSON parse error" in _body(response)["error"]


def test_wrong_content_type_is_415(owner_client):
    response = owner_client.post("/api/v1/api-keys", "displayName=x", content_type="application/x-www-form-urlencoded")
    assert response.status_code == 415
    assert _body(response)["success"] is False


def test_validation_error_names_each_field(owner_client):
    response = owner_client.post(
        "/api/v1/api-keys", {"apiPermissions": [{"permission": "wizard"}], "extra": 1}, format="json"
    )
    body = _body(response)
    assert response.status_code == 400
    assert body["data"]["fields"] == {
        "displayName": ["This field is required."],
        "apiPermissions[0].permission": ['"wizard" is not a valid choice.'],
        "extra": ["Unknown field."],
    }
    assert body["error"].startswith("displayName: This field is required.")
    assert "extra: Unknown field." in body["error"]


def test_wrong_type_names_the_field(owner_client):
    response = owner_client.post("/api/v1/api-keys", {"displayName": "k", "apiPermissions": "owner"}, format="json")
    assert response.status_code == 400
    assert list(_body(response)["data"]["fields"]) == ["apiPermissions"]


def test_oversized_body_is_413(owner_client, settings):
    settings.KEYHOUSE_API_MAX_BODY_BYTES = 2048
    response = owner_client.post("/api/v1/api-keys", {"displayName": "x" * 5000, "apiPermissions": []}, format="json")
    assert response.status_code == 413
    assert "too large" in _body(response)["error"]


def test_server_error_is_a_json_500_and_logged(owner_client, monkeypatch, caplog):
    def explode():
        raise RuntimeError("database on fire")

    monkeypatch.setattr("apps.accounts.selectors.api_key_list", explode)
    response = owner_client.get("/api/v1/api-keys")
    assert response.status_code == 500
    body = _body(response)
    assert body == {"success": False, "error": "internal server error", "data": {}}
    assert "database on fire" not in response.content.decode()
    assert any("unhandled error" in record.message for record in caplog.records)


def test_missing_object_is_404(owner_client):
    response = owner_client.get(f"/api/v1/api-keys/{uuid.uuid4()}")
    assert response.status_code == 404
    assert _body(response)["error"]


def test_success_is_enveloped(owner_client):
    response = owner_client.get("/api/v1/api-keys")
    body = _body(response)
    assert response.status_code == 200
    assert body["success"] is True and body["error"] is None
    assert set(body["data"]) == {"apiKeys", "pageToken"}


@pytest.mark.parametrize("debug", [True, False])
@pytest.mark.parametrize("method", ["post", "put", "patch", "delete", "options"])
def test_a_write_to_a_path_that_needs_a_slash_is_a_json_404(api_client, settings, debug, method, caplog):
    """Not APPEND_SLASH's RuntimeError (a 500 with DEBUG on) nor a 301 that drops the body."""
    settings.DEBUG = debug
    response = getattr(api_client, method)("/api/v1/schema", "{}", content_type="application/json")
    assert response.status_code == 404
    assert _body(response) == {"success": False, "error": "not found", "data": {}}
    assert not [record for record in caplog.records if record.levelname == "ERROR"]
    assert api_client.get("/api/v1/schema")["Location"] == "/api/v1/schema/"  # reads still redirect


def _api_routes():
    from config.api_v1 import urlpatterns

    for pattern in urlpatterns:
        route = re.sub(r"<(\w+):\w+>", lambda m: str(uuid.uuid4()) if m[1] == "uuid" else "1.0.0", str(pattern.pattern))
        view = pattern.callback.view_class
        methods = {m.upper() for m in ("get", "post", "put", "patch", "delete") if hasattr(view, m)}
        yield pytest.param(f"/api/v1/{route}", methods, id=str(pattern.pattern))


@pytest.mark.parametrize(("path", "methods"), list(_api_routes()))
def test_options_is_a_405_naming_the_methods_the_path_has(owner_client, path, methods):
    """The schema lists no OPTIONS operation: 405 with `Allow`, not a 403 for lack of a rule."""
    response = owner_client.options(path)
    assert response.status_code == 405, (response.status_code, response.content[:200])
    assert _body(response)["error"] == 'Method "OPTIONS" not allowed.'
    allowed = {m.strip() for m in response["Allow"].split(",")}
    assert allowed - {"HEAD"} == methods and "OPTIONS" not in allowed
