"""DoorLock operations 21–25 over HTTP: getMe, createUser, getUser, updateUser, deleteUser."""

import uuid

import pytest
from rest_framework.test import APIClient

from apps.access.models import Membership
from apps.accounts.models import PermissionGrant, User
from apps.core.principal import Grant
from apps.events.models import Event
from tests.factories import directory as d

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("fast_password_hashing")]

USER_FIELDS = {
    "userId",
    "userPermissions",
    "deviceIds",
    "externalRefs",
    "displayName",
    "private",
    "type",
    "typeState",
    "createdAt",
    "lastModifiedAt",
    "lastModifiedBy",
}
PRIVATE_FIELDS = {"firstName", "lastName", "email", "phoneNumber", "billingAddress"}
PASSWORD = "correct horse battery"


def _private(**overrides) -> dict:
    return {
        "firstName": "Rae",
        "lastName": "Mendez",
        "email": "rae@example.test",
        "phoneNumber": "+14155550123",
        "billingAddress": d.address(),
        **overrides,
    }


def _new_user(**overrides) -> dict:
    private = overrides.pop("private", None) or _private()
    return {"displayName": "Rae M.", "private": private, **overrides}


def _signed_in(user) -> APIClient:
    """A client holding a sign-in token of `user` (POST /api/v1/auth/token, email + password)."""
    response = APIClient().post("/api/v1/auth/token", {"email": user.email, "password": PASSWORD}, format="json")
    token = d.ok(response)["token"]
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {token}")
    return client


@pytest.fixture
def prop():
    return d.property_create()


@pytest.fixture
def resident(prop):
    """A person living in `prop` (member of its Residents group) who can sign in."""
    user = d.user_create(
        email="rae@example.test",
        display_name="Rae M.",
        password=PASSWORD,
        first_name="Rae",
        last_name="Mendez",
        phone_number="+14155550123",
        billing_address=d.address(),
    )
    d.member_add(d.property_group(prop), user)
    return user


# -- createUser --------------------------------------------------------------------------------------


def test_create_user_returns_the_spec_user_with_its_private_part(client_for):
    client, key = client_for("owner")
    data = d.ok(client.post("/api/v1/users", _new_user(private=_private(email="Rae@Example.TEST")), format="json"))
    assert set(data) == USER_FIELDS
    assert set(data["private"]) == PRIVATE_FIELDS
    assert data["private"] == _private(email="rae@example.test")  # email stored lower-case
    assert data["displayName"] == "Rae M."
    assert (data["userPermissions"], data["deviceIds"], data["externalRefs"]) == ([], [], [])
    assert (data["type"], data["typeState"], data["lastModifiedBy"]) == ("user", "active", f"apiKey:{key.pk}")
    assert Event.objects.filter(event_name="user.created", user_id=data["userId"]).count() == 1
    assert d.ok(client.get(f"/api/v1/users/{data['userId']}")) == data


def test_create_user_with_permissions_the_caller_holds(client_for, prop):
    # docs/API.md: a caller grants only permissions it holds itself, at the same or a wider scope
    client, _ = client_for("owner", "support")
    grants = [{"permission": "owner", "propertyId": str(prop.pk)}, {"permission": "support"}]
    data = d.ok(client.post("/api/v1/users", _new_user(userPermissions=grants), format="json"))
    assert data["userPermissions"] == [
        {"permission": "owner", "propertyId": str(prop.pk), "userId": None},
        {"permission": "support", "propertyId": None, "userId": None},
    ]
    rows = PermissionGrant.objects.filter(user_id=data["userId"]).order_by("id")
    assert [(g.permission, g.property_id) for g in rows] == [("owner", prop.pk), ("support", None)]


@pytest.mark.parametrize(
    ("private", "field"),
    [
        (_private(email="not-an-email"), "private.email"),
        (_private(phoneNumber="0415 555 0123"), "private.phoneNumber"),
        (_private(phoneNumber="+0123"), "private.phoneNumber"),
        (_private(phoneNumber="+1234567890123456"), "private.phoneNumber"),
        (_private(billingAddress={"line1": "x", "country": "GB", "postalCode": "1"}), "private.billingAddress.city"),
        ({k: v for k, v in _private().items() if k != "email"}, "private.email"),
        (_private(nickname="Ray"), "private.nickname"),
    ],
)
def test_create_user_validation_names_the_private_field(owner_client, private, field):
    body = d.refused(owner_client.post("/api/v1/users", _new_user(private=private), format="json"), 400)
    assert field in body["data"]["fields"]
    assert field in body["error"]
    assert not User.objects.filter(display_name="Rae M.").exists()


def test_create_user_without_private_or_with_unknown_fields_is_400(owner_client):
    body = d.refused(owner_client.post("/api/v1/users", {"displayName": "X"}, format="json"), 400)
    assert list(body["data"]["fields"]) == ["private"]
    body = d.refused(owner_client.post("/api/v1/users", _new_user(userId=str(uuid.uuid4())), format="json"), 400)
    assert body["data"]["fields"] == {"userId": ["Unknown field."]}


def test_duplicate_email_is_400_whatever_the_case(owner_client):
    d.user_create(email="rae@example.test")
    before = User.objects.count()
    body = d.refused(
        owner_client.post("/api/v1/users", _new_user(private=_private(email="RAE@example.test")), format="json"), 400
    )
    assert list(body["data"]["fields"]) == ["private.email"]  # the request's name, not the column's
    assert body["error"].startswith("private.email: ")
    assert User.objects.count() == before


def test_manage_access_key_of_property_a_cannot_grant_owner(client_for, prop):
    client, _ = client_for(Grant("manage-access", property_id=prop.pk))
    before = User.objects.count()
    for grants in (
        [{"permission": "owner", "propertyId": str(prop.pk)}],
        [{"permission": "owner"}],
        [{"permission": "manage-access"}],  # wider than its own scope
        [{"permission": "manage-access", "propertyId": str(uuid.uuid4())}],  # another property
    ):
        response = client.post("/api/v1/users", _new_user(userPermissions=grants), format="json")
        d.refused(response, 403)
    assert User.objects.count() == before
    # its own permission at its own scope is fine
    grants = [{"permission": "manage-access", "propertyId": str(prop.pk)}]
    d.ok(client.post("/api/v1/users", _new_user(userPermissions=grants), format="json"))


def test_me_cannot_be_granted(owner_client):
    """`me` is not in the schema's permission enum: a 400 naming the member, as for any value
    outside an enum (it was a 403 from the policy, after the body had been read as valid)."""
    body = _new_user(userPermissions=[{"permission": "me"}])
    refused = d.refused(owner_client.post("/api/v1/users", body, format="json"), 400)
    assert refused["data"]["fields"] == {
        "userPermissions[0].permission": ["`me` is implicit for every user and cannot be granted."]
    }


# -- getUser / getMe: who sees the private part ------------------------------------------------------


def test_owner_and_manager_of_the_property_see_the_private_part(client_for, prop, resident):
    for grant in (Grant("owner"), Grant("owner", property_id=prop.pk), Grant("manage-access", property_id=prop.pk)):
        client, _ = client_for(grant)
        data = d.ok(client.get(f"/api/v1/users/{resident.pk}"))
        assert set(data) == USER_FIELDS, grant
        assert data["private"] == _private(), grant


@pytest.mark.parametrize("scoped", [True, False])
def test_support_sees_the_user_without_the_private_part(client_for, prop, resident, scoped):
    client, _ = client_for(Grant("support", property_id=prop.pk) if scoped else "support")
    data = d.ok(client.get(f"/api/v1/users/{resident.pk}"))
    assert set(data) == USER_FIELDS - {"private"}
    assert data["userId"] == str(resident.pk)
    assert "rae@example.test" not in str(data) and "+1415" not in str(data)


def test_get_me_returns_your_own_record_with_the_private_part(resident):
    client = _signed_in(resident)
    data = d.ok(client.get("/api/v1/me"))
    assert set(data) == USER_FIELDS
    assert data["userId"] == str(resident.pk)
    assert data["private"] == _private()
    assert d.ok(client.get(f"/api/v1/users/{resident.pk}")) == data  # getUser on yourself


def test_a_signed_in_user_does_not_reach_a_neighbour(prop, resident):
    neighbour = d.user_create()
    d.member_add(d.property_group(prop), neighbour)
    d.refused(_signed_in(resident).get(f"/api/v1/users/{neighbour.pk}"), 404)


def test_get_me_with_an_api_key_is_403(owner_client):
    d.refused(owner_client.get("/api/v1/me"), 403)


def test_get_unknown_user_is_404(owner_client):
    d.refused(owner_client.get(f"/api/v1/users/{uuid.uuid4()}"), 404)


# -- updateUser ----------------------------------------------------------------------------------------


def test_update_user_replaces_name_and_private_part(client_for, resident):
    client, key = client_for("owner")
    private = _private(firstName="Raquel", email="raquel@example.test", phoneNumber="+442071234567")
    data = d.ok(
        client.put(f"/api/v1/users/{resident.pk}", {"displayName": "Raquel", "private": private}, format="json")
    )
    assert (data["displayName"], data["private"], data["lastModifiedBy"]) == ("Raquel", private, f"apiKey:{key.pk}")
    assert d.ok(client.get(f"/api/v1/users/{resident.pk}")) == data
    event = Event.objects.get(event_name="user.updated", user_id=resident.pk)
    assert set(event.payload["changed"]) == {"display_name", "first_name", "email", "phone_number"}


def test_update_user_validation(owner_client, resident):
    url = f"/api/v1/users/{resident.pk}"
    body = d.refused(
        owner_client.put(url, {"displayName": "R", "private": _private(phoneNumber="12")}, format="json"), 400
    )
    assert list(body["data"]["fields"]) == ["private.phoneNumber"]
    body = d.refused(owner_client.put(url, {"displayName": "R", "private": _private(email="@")}, format="json"), 400)
    assert list(body["data"]["fields"]) == ["private.email"]
    body = d.refused(owner_client.put(url, {"private": _private()}, format="json"), 400)
    assert list(body["data"]["fields"]) == ["displayName"]
    taken = d.user_create(email="taken@example.test")
    body = d.refused(
        owner_client.put(url, {"displayName": "R", "private": _private(email=taken.email)}, format="json"), 400
    )
    assert list(body["data"]["fields"]) == ["private.email"]
    assert d.ok(owner_client.get(url))["private"] == _private()
    assert not Event.objects.filter(event_name="user.updated").exists()


def test_me_can_update_own_profile_but_not_own_permissions(resident, prop):
    client = _signed_in(resident)
    url = f"/api/v1/users/{resident.pk}"
    data = d.ok(client.put(url, {"displayName": "Rae", "private": _private(lastName="Mendez-Ruiz")}, format="json"))
    assert (data["displayName"], data["private"]["lastName"]) == ("Rae", "Mendez-Ruiz")
    for grants in ([{"permission": "owner"}], [{"permission": "support", "propertyId": str(prop.pk)}], []):
        d.refused(client.put(url, {"displayName": "Rae", "userPermissions": grants}, format="json"), 403)
    assert not PermissionGrant.objects.filter(user=resident).exists()
    assert d.ok(client.get("/api/v1/me"))["userPermissions"] == []


def test_manager_can_set_and_clear_permissions(client_for, resident, prop):
    owner_client, _ = client_for("owner", "support")
    url = f"/api/v1/users/{resident.pk}"
    grants = [{"permission": "support", "propertyId": str(prop.pk)}]
    data = d.ok(owner_client.put(url, {"displayName": "Rae", "userPermissions": grants}, format="json"))
    assert data["userPermissions"] == [{"permission": "support", "propertyId": str(prop.pk), "userId": None}]
    data = d.ok(owner_client.put(url, {"displayName": "Rae"}, format="json"))  # left out: kept
    assert len(data["userPermissions"]) == 1
    data = d.ok(owner_client.put(url, {"displayName": "Rae", "userPermissions": []}, format="json"))
    assert data["userPermissions"] == []


def test_scoped_manager_cannot_raise_a_resident_to_owner(client_for, prop, resident):
    client, _ = client_for(Grant("manage-access", property_id=prop.pk))
    grants = [{"permission": "owner", "propertyId": str(prop.pk)}]
    d.refused(
        client.put(f"/api/v1/users/{resident.pk}", {"displayName": "R", "userPermissions": grants}, format="json"), 403
    )
    assert not PermissionGrant.objects.filter(user=resident).exists()


# -- deleteUser ----------------------------------------------------------------------------------------


def test_delete_user_takes_them_out_of_groups_and_frees_the_email(owner_client, prop, resident):
    custom = d.group_create(prop, members=[resident])
    data = d.ok(owner_client.delete(f"/api/v1/users/{resident.pk}"))
    assert set(data) == USER_FIELDS - {"private"}
    assert (data["userId"], data["typeState"]) == (str(resident.pk), "deleted")
    assert not Membership.objects.filter(user=resident).exists()
    removed = Event.objects.filter(event_name="group.member_removed", user_id=resident.pk)
    assert sorted(str(e.user_group_id) for e in removed) == sorted([str(custom.pk), str(d.property_group(prop).pk)])
    assert Event.objects.filter(event_name="user.deleted", user_id=resident.pk).count() == 1
    d.refused(owner_client.get(f"/api/v1/users/{resident.pk}"), 404)
    d.refused(owner_client.get(f"/api/v1/users/{resident.pk}/groups"), 404)
    assert d.ok(owner_client.get(f"/api/v1/properties/{prop.pk}/groups/{custom.pk}/users"))["users"] == []
    # the email can be used by someone new
    again = d.ok(owner_client.post("/api/v1/users", _new_user(), format="json"))
    assert again["userId"] != str(resident.pk) and again["private"]["email"] == "rae@example.test"


def test_deleted_user_can_no_longer_sign_in_or_use_a_token(owner_client, resident):
    client = _signed_in(resident)
    d.ok(owner_client.delete(f"/api/v1/users/{resident.pk}"))
    d.refused(client.get("/api/v1/me"), 401)
    response = APIClient().post(
        "/api/v1/auth/token", {"email": "rae@example.test", "password": PASSWORD}, format="json"
    )
    d.refused(response, 401)


def test_delete_user_who_owns_a_live_property_is_409(owner_client):
    owner = d.user_create()
    prop = d.property_create(owner=owner)
    body = d.refused(owner_client.delete(f"/api/v1/users/{owner.pk}"), 409)
    assert body["data"]["blockedBy"] == {"propertyIds": [str(prop.pk)]}
    assert d.ok(owner_client.get(f"/api/v1/users/{owner.pk}"))["typeState"] == "active"
    # after the property is gone, so can they be
    d.ok(owner_client.delete(f"/api/v1/properties/{prop.pk}"))
    d.ok(owner_client.delete(f"/api/v1/users/{owner.pk}"))


def test_delete_unknown_user_is_404(owner_client):
    d.refused(owner_client.delete(f"/api/v1/users/{uuid.uuid4()}"), 404)


def test_deleted_access_manager_leaves_the_property(owner_client):
    manager, other = d.user_create(), d.user_create()
    prop = d.property_create(access_managers=[manager, other])
    d.ok(owner_client.delete(f"/api/v1/users/{manager.pk}"))
    data = d.ok(owner_client.get(f"/api/v1/properties/{prop.pk}"))
    assert data["accessManagerIds"] == [str(other.pk)]
    assert Event.objects.filter(event_name="property.updated", property_id=prop.pk).count() == 1
    # what was read can be written back unchanged
    body = {k: data[k] for k in ("displayName", "address", "accessManagerIds")}
    d.ok(owner_client.put(f"/api/v1/properties/{prop.pk}", body, format="json"))


def test_a_property_manager_cannot_take_over_a_more_privileged_member(client_for, prop):
    admin = d.user_create(email="admin@example.test", grants=[Grant("owner")])
    d.member_add(d.property_group(prop, "staff"), admin)
    client, _ = client_for(Grant("manage-access", property_id=prop.pk))
    response = client.put(
        f"/api/v1/users/{admin.pk}",
        {"displayName": "Admin", "private": _private(email="attacker@example.test")},
        format="json",
    )
    assert User.objects.get(pk=admin.pk).email == "admin@example.test"
    d.refused(response, 403)
