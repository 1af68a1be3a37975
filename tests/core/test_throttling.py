import pytest

from apps.core.api.throttling import AddressRateThrottle, PrincipalRateThrottle, SignInRateThrottle

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("one_throttle_window")]


def test_per_key_limit_answers_429_in_the_envelope_with_retry_after(client_for, monkeypatch):
    monkeypatch.setattr(PrincipalRateThrottle, "THROTTLE_RATES", {"principal": "3/min"})
    client, _ = client_for("owner")
    other, _ = client_for("owner")
    statuses = [client.get("/api/v1/api-keys").status_code for _ in range(4)]
    assert statuses == [200, 200, 200, 429]
    response = client.get("/api/v1/api-keys")
    assert response.status_code == 429
    assert response.json()["success"] is False
    assert 1 <= int(response["Retry-After"]) <= 60
    assert other.get("/api/v1/api-keys").status_code == 200  # another key has its own budget


def test_per_address_limit_applies_to_anonymous_calls(api_client, monkeypatch):
    monkeypatch.setattr(AddressRateThrottle, "THROTTLE_RATES", {"address": "2/min"})
    statuses = [api_client.get("/api/v1/api-keys").status_code for _ in range(3)]
    assert statuses == [401, 401, 429]


def test_sign_in_has_its_own_tight_limit(api_client, monkeypatch):
    monkeypatch.setattr(SignInRateThrottle, "THROTTLE_RATES", {"sign_in": "2/min", "address": "100/min"})
    body = {"email": "nobody@example.test", "password": "wrong"}
    statuses = [api_client.post("/api/v1/auth/token", body, format="json").status_code for _ in range(3)]
    assert statuses == [401, 401, 429]


def test_sign_out_is_not_held_by_the_sign_in_limit(api_client, monkeypatch):
    from tests.factories.accounts import UserFactory

    monkeypatch.setattr(SignInRateThrottle, "THROTTLE_RATES", {"sign_in": "3/min", "address": "100/min"})
    UserFactory(email="rae@example.test", password="correct horse battery")
    good = {"email": "rae@example.test", "password": "correct horse battery"}
    token = api_client.post("/api/v1/auth/token", good, format="json").json()["data"]["token"]
    wrong = {"email": "rae@example.test", "password": "wrong"}
    statuses = [api_client.post("/api/v1/auth/token", wrong, format="json").status_code for _ in range(3)]
    assert statuses == [401, 401, 429]  # the sign-in limit of this address is spent

    api_client.credentials(HTTP_AUTHORIZATION=f"Bearer {token}")
    response = api_client.delete("/api/v1/auth/token")
    assert response.status_code == 200, response.json()
    assert api_client.delete("/api/v1/auth/token").status_code == 401  # signed out indeed


def test_sign_out_keeps_the_per_credential_limit(api_client, monkeypatch):
    from tests.factories.accounts import UserFactory

    monkeypatch.setattr(PrincipalRateThrottle, "THROTTLE_RATES", {"principal": "1/min"})
    UserFactory(email="rae@example.test", password="correct horse battery")
    good = {"email": "rae@example.test", "password": "correct horse battery"}
    token = api_client.post("/api/v1/auth/token", good, format="json").json()["data"]["token"]
    api_client.credentials(HTTP_AUTHORIZATION=f"Bearer {token}")
    assert api_client.get("/api/v1/me").status_code == 200
    assert api_client.delete("/api/v1/auth/token").status_code == 429
