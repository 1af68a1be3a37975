"""OperationPermission: 403 without the permission, 404 outside the key's scope.

The property-scoped operations land with the directory issue; the mechanism is tested
here on a minimal view pinned to `getProperty` and `listGroupsForUserAtProperty`.
"""

import uuid

import pytest
from django.urls import path
from rest_framework.response import Response

from apps.core.api.permissions import operation
from apps.core.api.views import ApiView
from apps.core.operations import OPERATIONS, Scope
from apps.core.principal import Grant, Principal
from tests.factories import directory as d

pytestmark = pytest.mark.django_db

PROPERTY_A, PROPERTY_B = uuid.uuid4(), uuid.uuid4()


class _PropertyView(ApiView):
    @operation("getProperty", responses=None)
    def get(self, request, propertyId):
        return Response({"propertyId": str(propertyId)})


class _UntaggedView(ApiView):
    def get(self, request):
        return Response({})


urlpatterns = [
    path("api/v1/t/properties/<uuid:propertyId>", _PropertyView.as_view()),
    path("api/v1/t/untagged", _UntaggedView.as_view()),
]


@pytest.fixture(autouse=True)
def _urls(settings):
    settings.ROOT_URLCONF = __name__


@pytest.fixture(autouse=True)
def _properties():
    """Grants name only live properties: A and B exist."""
    for property_id in (PROPERTY_A, PROPERTY_B):
        d.property_create(property_id=property_id)


def test_key_scoped_to_property_a_reads_a_and_gets_404_for_b(client_for):
    client, _ = client_for(Grant("owner", property_id=PROPERTY_A))
    assert client.get(f"/api/v1/t/properties/{PROPERTY_A}").status_code == 200
    response = client.get(f"/api/v1/t/properties/{PROPERTY_B}")
    assert response.status_code == 404
    assert response.json()["success"] is False


def test_unscoped_grant_reaches_every_property(client_for):
    client, _ = client_for("support")
    assert client.get(f"/api/v1/t/properties/{PROPERTY_B}").status_code == 200


def test_key_without_the_permission_is_403(client_for):
    client, _ = client_for("manage-firmware")
    response = client.get(f"/api/v1/t/properties/{PROPERTY_A}")
    assert response.status_code == 403
    assert response.json()["error"] == "insufficient permission"


def test_handler_without_operation_id_is_refused(owner_client):
    assert owner_client.get("/api/v1/t/untagged").status_code == 403


def test_global_operations_need_an_unscoped_grant(client_for, settings):
    settings.ROOT_URLCONF = "config.urls"
    client, _ = client_for(Grant("owner", property_id=PROPERTY_A))
    response = client.get("/api/v1/api-keys")
    assert response.status_code == 403
    assert "not scoped" in response.json()["error"]


def test_me_grant_matches_only_yourself_and_your_properties():
    me = uuid.uuid4()
    principal = Principal(
        kind="user",
        id=me,
        grants=(Grant("me", user_id=me),),
        label="user",
        user_id=me,
        member_properties=frozenset({PROPERTY_A}),
    )
    perms = frozenset({"me"})
    assert principal.allows(perms, user_id=me)
    assert not principal.allows(perms, user_id=uuid.uuid4())
    assert principal.allows(perms, property_id=PROPERTY_A)
    assert not principal.allows(perms, property_id=PROPERTY_B)
    assert principal.property_ids_for(perms) == frozenset({PROPERTY_A})


def test_member_properties_are_read_only_when_a_property_question_needs_them_and_once():
    me, reads = uuid.uuid4(), []

    def load():
        reads.append(1)
        return {PROPERTY_A}

    principal = Principal(
        kind="user", id=me, grants=(Grant("me", user_id=me),), label="user", user_id=me, member_properties=load
    )
    perms = frozenset({"me"})
    assert principal.allows(perms, user_id=me)  # about the person only: no read
    assert reads == []
    assert principal.allows(perms, property_id=PROPERTY_A)
    assert not principal.allows(perms, property_id=PROPERTY_B)
    assert principal.property_ids_for(perms) == frozenset({PROPERTY_A})
    assert reads == [1]


def test_every_rule_names_known_permissions_and_a_scope():
    known = {
        "me",
        "owner",
        "provision-lock",
        "install-lock",
        "manage-access",
        "manage-firmware",
        "support",
        "lock",
        "device",
        "resident",
    }
    for operation_id, rule in OPERATIONS.items():
        assert rule.permissions <= known, operation_id
        assert isinstance(rule.scope, Scope)
        assert rule.permissions or rule.scope == Scope.PUBLIC, operation_id
