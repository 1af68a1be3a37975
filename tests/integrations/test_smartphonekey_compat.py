"""`POST /compat/smartphonekey/users/{id}/AddAccessibleLock` in the seed's shape (seed 003), with
Keyhouse API keys and Keyhouse-signed JWTs; the grant goes through the access service."""

import datetime as dt

import jwt
import pytest
from django.test import Client
from django.utils import timezone

from apps.access.models import AccessGrant
from apps.core.principal import Grant
from apps.integrations.smartphonekey.compat import tokens
from tests.factories import access as a
from tests.factories import directory as d
from tests.factories.accounts import api_key_with

pytestmark = pytest.mark.django_db

BASE = "/compat/smartphonekey"


@pytest.fixture
def world():
    prop = d.property_create(display_name="Tower", time_zone="Europe/Paris")
    lobby = d.area_create(prop, display_name="Lobby", area_type="common")
    door = a.lock_in(lobby, "Lobby door")
    alice = d.user_create(display_name="Alice")
    d.member_add(d.property_group(prop), alice)
    other = d.property_create(display_name="Elsewhere")
    far_door = a.lock_in(d.area_create(other, display_name="Hall", area_type="common"), "Hall door")
    _, secret = api_key_with(Grant("manage-access", property_id=prop.pk))
    return {"prop": prop, "door": door, "alice": alice, "far_door": far_door, "key": secret}


def _token(key: str) -> str:
    response = Client().post(f"{BASE}/auth/token", HTTP_X_API_KEY=key)
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["success"] is True and body["expiresAt"].endswith("Z")
    return body["token"]


def _add(world, body=None, *, user=None, key=None, token=None, **headers):
    key = key or world["key"]
    token = token if token is not None else _token(key)
    payload = {"lockId": str(world["door"].pk), "accessLevel": "USER", "grantedBy": "front desk", **(body or {})}
    auth = {"HTTP_X_API_KEY": key, "HTTP_AUTHORIZATION": f"Bearer {token}", **headers}
    auth = {k: v for k, v in auth.items() if v is not None}
    return Client().post(
        f"{BASE}/users/{user or world['alice'].pk}/AddAccessibleLock", payload, content_type="application/json", **auth
    )


def test_the_answer_has_exactly_the_seeds_six_fields_and_creates_the_grant(world):
    response = _add(world, {"lockName": "Whatever label", "validUntil": "2099-01-01T00:00:00+01:00"})
    assert response.status_code == 200, response.content
    body = response.json()
    assert set(body) == {"success", "aggregateId", "version", "event", "lockId", "accessLevel"}
    assert body["success"] is True and body["aggregateId"] == str(world["alice"].pk)
    assert body["version"] == 1 and isinstance(body["version"], int)
    assert body["event"]["type"] == "AccessibleLockAdded" and body["event"]["validUntil"] == "2098-12-31T23:00:00Z"
    assert (body["lockId"], body["accessLevel"]) == (str(world["door"].pk), "USER")
    grant = AccessGrant.objects.get(user=world["alice"], lock=world["door"])
    assert grant.access_level == "USER" and grant.revoked_at is None
    world["door"].refresh_from_db()
    assert world["door"].display_name == "Lobby door"  # lockName is a label only


def test_an_identical_repeat_changes_nothing_and_returns_the_same_version(world):
    first = _add(world, {"validFrom": "2030-05-01"}).json()
    again = _add(world, {"validFrom": "2030-05-01"}).json()
    assert again["version"] == first["version"] == 1 and again["event"] is None
    assert AccessGrant.objects.filter(user=world["alice"]).count() == 1


def test_a_change_rises_the_version_and_validuntil_now_revokes(world):
    _add(world)
    changed = _add(world, {"accessLevel": "GUEST", "validUntil": "2031-01-01"}).json()
    assert changed["version"] == 2 and changed["event"]["type"] == "AccessibleLockChanged"
    # a bare date is that whole day in the property's zone (Paris, UTC+1 in winter)
    assert changed["event"]["validUntil"] == "2031-01-01T23:00:00Z"
    now = timezone.now().isoformat()
    revoked = _add(world, {"accessLevel": "GUEST", "validUntil": now}).json()
    assert revoked["version"] == 3 and revoked["event"]["type"] == "AccessibleLockRevoked"
    assert not AccessGrant.objects.filter(user=world["alice"], revoked_at__isnull=True).exists()
    assert _add(world, {"accessLevel": "GUEST", "validUntil": now}).json()["event"] is None


@pytest.mark.parametrize(
    ("body", "error"),
    [
        ({"accessLevel": "SUPERUSER"}, "accessLevel: must be one of OWNER, ADMIN, USER, GUEST"),
        ({"accessLevel": None}, "accessLevel: required"),
        ({"grantedBy": ""}, "grantedBy: required"),
        ({"lockId": None}, "lockId: required"),
        ({"validFrom": "tomorrow"}, "validFrom: must be an RFC 3339 date-time with an offset, or a date (YYYY-MM-DD)"),
        ({"validFrom": "2030-01-01T10:00:00"}, "validFrom: must be an RFC 3339"),
        ({"accessLevel": "GUEST"}, "validUntil: Required for GUEST grants"),
        ({"validFrom": "2031-01-02", "validUntil": "2031-01-01"}, "validUntil: Must be after validFrom."),
    ],
)
def test_bad_fields_are_400_naming_the_field(world, body, error):
    response = _add(world, body)
    assert response.status_code == 400
    assert response.json()["success"] is False and response.json()["error"].startswith(error)
    assert not AccessGrant.objects.exists()


def test_both_headers_are_required_and_checked(world):
    no_key = Client().post(
        f"{BASE}/users/{world['alice'].pk}/AddAccessibleLock",
        {"lockId": str(world["door"].pk), "accessLevel": "USER", "grantedBy": "x"},
        content_type="application/json",
        HTTP_AUTHORIZATION=f"Bearer {_token(world['key'])}",
    )
    assert no_key.status_code == 401 and no_key.json()["error"] == "X-API-Key: required"
    no_jwt = _add(world, token="", HTTP_AUTHORIZATION=None)
    assert no_jwt.status_code == 401 and no_jwt.json()["error"].startswith("Authorization: required")
    bad = _add(world, token="not.a.jwt")
    assert bad.status_code == 401 and bad.json()["error"].startswith("Authorization: ")
    _, other_key = api_key_with(Grant("manage-access", property_id=world["prop"].pk), name="other")
    stolen = _add(world, token=_token(other_key))
    assert stolen.json()["error"] == "Authorization: token issued to another API key"
    garbage = _add(world, key="khk_garbage", token="x")
    assert garbage.status_code == 401 and garbage.json()["error"].startswith("X-API-Key: ")
    assert not AccessGrant.objects.exists()


def test_an_expired_or_foreign_signed_token_is_refused(world, settings):
    token = _token(world["key"])
    subject = jwt.decode(token, options={"verify_signature": False})["sub"]
    past = timezone.now() - dt.timedelta(hours=2)
    expired, _ = tokens.token_issue(api_key_id=subject, now=past)
    assert _add(world, token=expired).json()["error"] == "Authorization: token expired"
    forged = jwt.encode(
        {"sub": subject, "exp": timezone.now() + dt.timedelta(minutes=5)}, "guess", headers={"kid": tokens.key_id()}
    )
    assert _add(world, token=forged).status_code == 401
    header = jwt.get_unverified_header(token)
    claims = jwt.decode(token, options={"verify_signature": False})
    assert header["kid"] == tokens.key_id() and claims["exp"] - claims["iat"] <= 3600


def test_a_lock_outside_the_keys_scope_is_404_and_a_missing_user_404(world):
    far = _add(world, {"lockId": str(world["far_door"].pk)})
    assert far.status_code == 404 and far.json() == {"success": False, "error": "lockId: no such lock"}
    missing = _add(world, {"lockId": "00000000-0000-7000-8000-000000000000"})
    assert missing.json() == far.json()
    stranger = d.user_create(display_name="Stranger")
    assert _add(world, user=stranger.pk).status_code == 404
    assert _add(world, user="not-a-uuid").json() == {"success": False, "error": "id: no such user"}


def test_a_key_that_reads_but_may_not_grant_is_403(world):
    _, support = api_key_with(Grant("support", property_id=world["prop"].pk), name="support")
    response = _add(world, key=support)
    assert response.status_code == 403
    assert response.json()["error"] == "accessLevel: this API key may not grant access on this lock"
    assert not AccessGrant.objects.exists()


def test_the_compat_schema_holds_both_calls_and_the_api_schema_neither(world):
    compat = Client().get(f"{BASE}/schema/", {"format": "json"}).json()
    assert set(compat["paths"]) == {f"{BASE}/auth/token", f"{BASE}/users/{{id}}/AddAccessibleLock"}
    add = compat["paths"][f"{BASE}/users/{{id}}/AddAccessibleLock"]["post"]
    assert add["operationId"] == "compatSmartphoneKeyAddAccessibleLock"
    assert {"400", "401", "403", "404", "200"} <= set(add["responses"])
    api = Client().get("/api/v1/schema/", {"format": "json"}).json()
    assert not [path for path in api["paths"] if "compat" in path]


def test_a_day_at_the_edge_of_the_calendar_is_a_400_naming_the_field(world):
    response = _add(world, {"validFrom": "0001-01-01"})  # Europe/Paris is ahead of UTC: before year 1 in UTC
    assert response.status_code == 400, response.content
    assert response.json() == {"success": False, "error": "validFrom: out of range: '0001-01-01'"}


def test_granted_by_is_at_most_200_characters_as_sent(world):
    response = _add(world, {"grantedBy": "desk" + " " * 197})  # 201 characters, 4 once trimmed
    assert response.status_code == 400, response.content
    assert response.json()["error"] == "grantedBy: at most 200 characters"
