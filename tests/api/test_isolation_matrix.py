"""Isolation matrix: EVERY DoorLock operation 1–25 against five callers.

| caller           | what it is                                          | expected                    |
|------------------|-----------------------------------------------------|-----------------------------|
| `anonymous`      | no credential                                       | 401                         |
| `other_property` | the right permission (`owner`), scoped to property B | 404: A's objects do not exist for it |
| `unrelated`      | `manage-firmware` (in none of 1–25's rules)          | 403                         |
| `read_only`      | `support` scoped to property A                       | 200 on reads, 403 on writes |
| `right`          | `owner` scoped to property A                         | 200                         |

Where an operation names no object of property A, "another property's key" cannot be a
404, and the expectation is what protects A instead (docs/API.md, permission map):

- `listProperties` (scope any): 200, and the list holds B, never A.
- `createProperty` (scope global): 403 for any property-scoped key, B's included; the
  right caller is an unscoped `owner`.
- `createUser` (scope any): the body asks for `owner` on property A; B's owner cannot grant
  what it does not hold → 403 (A's owner → 200).
- `getMe` (scope self): the callers are signed-in people, not keys: "right" is a resident of
  A, "other property" a resident of B, who gets 200 with their *own* record and nothing of
  A's. `support` is not a person, so `getMe` is 403 for the read-only key.

Every refused call must leave no trace (no Event written), and a 404 for an object outside
the caller's scope must look exactly like the 404 for an id that does not exist.
"""

import uuid
from dataclasses import dataclass
from types import SimpleNamespace

import pytest
from rest_framework.test import APIClient

from apps.access import services as access_services
from apps.core.actors import SYSTEM
from apps.core.operations import OPERATIONS
from apps.core.principal import Grant
from apps.events.models import Event
from tests.factories import directory as d
from tests.factories.accounts import key_client

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("fast_password_hashing")]

PASSWORD = "correct horse battery"


@dataclass(frozen=True)
class Op:
    method: str
    path: str  # formatted with the world (w)
    body: object = None  # dict, or a callable(w) -> dict
    write: bool = False
    prepare: object = None  # callable(w), run before the call


def _delete_areas_of_a(w):
    access_services.area_delete(area=w.area_a, actor=SYSTEM)


MATRIX: dict[str, Op] = {
    "listProperties": Op("get", "/properties"),
    "createProperty": Op("post", "/properties", {"displayName": "New", "address": d.address()}, write=True),
    "getProperty": Op("get", "/properties/{w.a.pk}"),
    "updateProperty": Op(
        "put", "/properties/{w.a.pk}", {"displayName": "Renamed", "address": d.address(), "accessManagerIds": []}, True
    ),
    "deleteProperty": Op("delete", "/properties/{w.a.pk}", write=True, prepare=_delete_areas_of_a),
    "listAreas": Op("get", "/properties/{w.a.pk}/areas"),
    "createArea": Op("post", "/properties/{w.a.pk}/areas", {"displayName": "Gym", "areaType": "common"}, True),
    "getArea": Op("get", "/properties/{w.a.pk}/areas/{w.area_a.pk}"),
    "updateArea": Op("put", "/properties/{w.a.pk}/areas/{w.area_a.pk}", {"displayName": "Renamed"}, True),
    "deleteArea": Op("delete", "/properties/{w.a.pk}/areas/{w.area_a.pk}", write=True),
    "listUserGroups": Op("get", "/properties/{w.a.pk}/groups"),
    "createUserGroup": Op("post", "/properties/{w.a.pk}/groups", {"groupType": "resident"}, True),
    "getUserGroup": Op("get", "/properties/{w.a.pk}/groups/{w.group_a.pk}"),
    "updateUserGroup": Op("put", "/properties/{w.a.pk}/groups/{w.group_a.pk}", {"displayName": "Renamed"}, True),
    "deleteUserGroup": Op("delete", "/properties/{w.a.pk}/groups/{w.group_a.pk}", write=True),
    "listUsersForGroup": Op("get", "/properties/{w.a.pk}/groups/{w.group_a.pk}/users"),
    "addUserToUserGroup": Op("post", "/properties/{w.a.pk}/groups/{w.group_a.pk}/users/{w.newcomer.pk}", write=True),
    "removeUserFromUserGroup": Op(
        "delete", "/properties/{w.a.pk}/groups/{w.group_a.pk}/users/{w.user_a.pk}", write=True
    ),
    "listGroupsForUser": Op("get", "/users/{w.user_a.pk}/groups"),
    "listGroupsForUserAtProperty": Op("get", "/users/{w.user_a.pk}/properties/{w.a.pk}/groups"),
    "getMe": Op("get", "/me"),
    "createUser": Op(
        "post",
        "/users",
        lambda w: {
            "displayName": "New person",
            "private": {
                "firstName": "New",
                "lastName": "Person",
                "email": "new.person@example.test",
                "phoneNumber": "",
                "billingAddress": None,
            },
            "userPermissions": [{"permission": "owner", "propertyId": str(w.a.pk)}],
        },
        True,
    ),
    "getUser": Op("get", "/users/{w.user_a.pk}"),
    "updateUser": Op("put", "/users/{w.user_a.pk}", {"displayName": "Renamed"}, True),
    "deleteUser": Op("delete", "/users/{w.user_a.pk}", write=True),
}

CALLERS = ("anonymous", "other_property", "unrelated", "read_only", "right")
NOT_OBJECT_SCOPED = {"listProperties": 200, "createProperty": 403, "createUser": 403, "getMe": 200}


def expected_status(op_id: str, caller: str) -> int:
    if caller == "anonymous":
        return 401
    if caller == "unrelated":
        return 403
    if caller == "read_only":
        return 403 if MATRIX[op_id].write or op_id == "getMe" else 200
    if caller == "other_property":
        return NOT_OBJECT_SCOPED.get(op_id, 404)
    return 200


def test_matrix_covers_exactly_operations_1_to_25():
    ids = list(OPERATIONS)
    spec_1_to_25 = ids[ids.index("listProperties") : ids.index("deleteUser") + 1]
    assert len(spec_1_to_25) == 25
    assert list(MATRIX) == spec_1_to_25


@pytest.fixture
def world():
    a, b = d.property_create(display_name="A"), d.property_create(display_name="B")
    user_a = d.user_create(email="a.resident@example.test", password=PASSWORD)
    user_b = d.user_create(email="b.resident@example.test", password=PASSWORD)
    group_a = d.group_create(a, members=[user_a])
    group_b = d.group_create(b, members=[user_b])
    newcomer = d.user_create()  # a resident of A, not yet in group_a
    d.member_add(d.property_group(a), newcomer)
    return SimpleNamespace(
        a=a,
        b=b,
        area_a=d.area_create(a),
        area_b=d.area_create(b),
        group_a=group_a,
        group_b=group_b,
        user_a=user_a,
        user_b=user_b,
        newcomer=newcomer,
    )


def _person_client(user) -> APIClient:
    response = APIClient().post("/api/v1/auth/token", {"email": user.email, "password": PASSWORD}, format="json")
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {d.ok(response)['token']}")
    return client


def _client(w, op_id: str, caller: str) -> APIClient:
    if caller == "anonymous":
        return APIClient()
    if op_id == "getMe" and caller in ("right", "other_property"):
        return _person_client(w.user_a if caller == "right" else w.user_b)
    grant = {
        "other_property": Grant("owner", property_id=w.b.pk),
        "unrelated": Grant("manage-firmware"),
        "read_only": Grant("support", property_id=w.a.pk),
        "right": Grant("owner") if op_id == "createProperty" else Grant("owner", property_id=w.a.pk),
    }[caller]
    return key_client(grant)


def _call(client, op: Op, w):
    body = op.body(w) if callable(op.body) else op.body
    url = "/api/v1" + op.path.format(w=w)
    return getattr(client, op.method)(url, body, format="json") if body is not None else getattr(client, op.method)(url)


def _a_ids(w) -> set[str]:
    return {str(x.pk) for x in (w.a, w.area_a, w.group_a, w.user_a, w.area_a.area_user_group)}


@pytest.mark.parametrize("caller", CALLERS)
@pytest.mark.parametrize("op_id", list(MATRIX))
def test_isolation(world, op_id, caller):
    op = MATRIX[op_id]
    if op.prepare:
        op.prepare(world)
    client = _client(world, op_id, caller)
    events_before = Event.objects.count()

    response = _call(client, op, world)

    status = expected_status(op_id, caller)
    if status != 200:
        body = d.refused(response, status)
        assert Event.objects.count() == events_before, "a refused call left an event behind"
        if status == 401:
            assert response.headers["WWW-Authenticate"].startswith("Bearer")
        if status == 404:
            # indistinguishable from an id that does not exist: no existence leak
            assert body == {"success": False, "error": "Not found.", "data": {}}
        return

    data = d.ok(response)
    text = str(data)
    if caller == "other_property":
        # the two non-object-scoped reads that B's caller may make: nothing of A's comes back
        assert not any(i in text for i in _a_ids(world)), f"{op_id} leaked property A to property B"
        if op_id == "listProperties":
            assert [p["propertyId"] for p in data["properties"]] == [str(world.b.pk)]
        else:
            assert data["userId"] == str(world.user_b.pk)
        return
    if op.write:
        assert Event.objects.count() > events_before, f"{op_id} answered 200 but wrote no event"
    else:
        assert Event.objects.count() == events_before
        assert str(world.b.pk) not in text and str(world.user_b.pk) not in text
    if op_id == "listProperties":
        assert [p["propertyId"] for p in data["properties"]] == [str(world.a.pk)]
    elif op_id == "getMe":
        assert data["userId"] == str(world.user_a.pk)
    elif op_id in ("getProperty", "getArea", "getUserGroup", "listAreas", "listUserGroups"):
        assert str(world.a.pk) in text


def test_a_key_of_property_b_sees_nothing_of_a_in_any_list(world):
    """Zero leaks: a person in both A and B, walked through every list B's owner can call."""
    commuter = d.user_create()
    d.member_add(world.group_a, commuter)
    d.member_add(world.group_b, commuter)
    client = key_client(Grant("owner", property_id=world.b.pk))
    urls = {
        "/api/v1/properties": "properties",
        f"/api/v1/properties/{world.b.pk}/areas": "properties",
        f"/api/v1/properties/{world.b.pk}/groups": "groups",
        f"/api/v1/properties/{world.b.pk}/groups/{world.group_b.pk}/users": "users",
        f"/api/v1/users/{commuter.pk}/groups": "groups",
        f"/api/v1/users/{commuter.pk}/properties/{world.b.pk}/groups": "groups",
    }
    for url, key in urls.items():
        items = d.ok(client.get(url))[key]
        assert items, url  # B's own objects are there
        assert not any(i in str(items) for i in _a_ids(world)), f"{url} leaked property A"
    # and the same person, asked about at property A, is out of reach
    d.refused(client.get(f"/api/v1/users/{commuter.pk}/properties/{world.a.pk}/groups"), 404)


def test_unscoped_owner_reaches_both_properties(world):
    client = key_client(Grant("owner"))
    listed = {p["propertyId"] for p in d.ok(client.get("/api/v1/properties"))["properties"]}
    assert listed == {str(world.a.pk), str(world.b.pk)}
    for prop, group in ((world.a, world.group_a), (world.b, world.group_b)):
        d.ok(client.get(f"/api/v1/properties/{prop.pk}/groups/{group.pk}"))


def test_a_resident_reaches_only_their_own_property(world):
    """`me` reads the places of the properties the person belongs to, nothing else."""
    client = _person_client(world.user_a)
    assert [p["propertyId"] for p in d.ok(client.get("/api/v1/properties"))["properties"]] == [str(world.a.pk)]
    d.ok(client.get(f"/api/v1/properties/{world.a.pk}/areas/{world.area_a.pk}"))
    d.refused(client.get(f"/api/v1/properties/{world.b.pk}"), 404)
    d.refused(client.get(f"/api/v1/properties/{world.b.pk}/areas/{world.area_b.pk}"), 404)
    d.refused(client.get(f"/api/v1/users/{world.user_b.pk}"), 404)
    d.refused(client.get(f"/api/v1/users/{uuid.uuid4()}"), 404)
    # a resident manages nothing
    d.refused(client.get(f"/api/v1/properties/{world.a.pk}/groups"), 403)
    d.refused(client.post(f"/api/v1/properties/{world.a.pk}/areas", {"displayName": "x", "areaType": "common"}), 403)
