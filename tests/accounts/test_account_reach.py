"""Who may change whose account (docs/API.md, "Whose account a manager may change").

A manager of one building must not be able to pull a stranger into reach (group membership,
ownerId, accessManagerIds) to read their private part, nor rewrite the sign-in email of a
person who holds more than the manager does, belongs to another building, or is staff.
"""

import pytest

from apps.access.models import Membership
from apps.accounts.models import User
from apps.core.principal import Grant
from apps.events.models import Event
from tests.factories import directory as d

pytestmark = pytest.mark.django_db


def _update(client, user, email):
    return client.put(
        f"/api/v1/users/{user.pk}",
        {
            "displayName": "Renamed",
            "private": {"firstName": "A", "lastName": "B", "email": email, "phoneNumber": "", "billingAddress": None},
        },
        format="json",
    )


def _new_user(email="new@example.test", **extra):
    private = {"firstName": "N", "lastName": "P", "email": email, "phoneNumber": "", "billingAddress": None}
    return {"displayName": "New person", "private": private, **extra}


@pytest.fixture
def a():
    return d.property_create(display_name="A")


@pytest.fixture
def b():
    return d.property_create(display_name="B")


@pytest.fixture
def manager_a(client_for, a):
    return client_for(Grant("manage-access", property_id=a.pk))[0]


@pytest.fixture
def owner_a(client_for, a):
    return client_for(Grant("owner", property_id=a.pk))[0]


def test_a_manager_cannot_add_a_stranger_to_its_group_and_so_read_them(manager_a, a):
    stranger = d.user_create(email="stranger@example.test")
    group = d.property_group(a)
    events_before = Event.objects.count()

    d.refused(manager_a.post(f"/api/v1/properties/{a.pk}/groups/{group.pk}/users/{stranger.pk}"), 404)

    assert not Membership.objects.filter(user=stranger).exists()
    assert Event.objects.count() == events_before
    d.refused(manager_a.get(f"/api/v1/users/{stranger.pk}"), 404)


def test_a_manager_adds_its_own_residents_to_another_of_its_groups(manager_a, a):
    resident = d.user_create()
    d.member_add(d.property_group(a), resident)
    gym = d.group_create(a, display_name="Gym pass holders")

    d.ok(manager_a.post(f"/api/v1/properties/{a.pk}/groups/{gym.pk}/users/{resident.pk}"))

    assert Membership.objects.filter(user=resident, user_group=gym).exists()


def test_an_owner_cannot_name_a_stranger_access_manager_but_keeps_the_current_ones(owner_a, a):
    current = d.user_create()
    a.access_managers.add(current)  # set earlier by a wider manager
    stranger = d.user_create()

    body = d.refused(
        owner_a.put(
            f"/api/v1/properties/{a.pk}",
            {"displayName": "A", "address": d.address(), "accessManagerIds": [str(current.pk), str(stranger.pk)]},
            format="json",
        ),
        400,
    )

    assert body["error"] == f"accessManagerIds: Unknown user(s): {stranger.pk}."
    assert list(a.access_managers.all()) == [current]
    # the same stranger as owner: refused the same way, the field named
    body = d.refused(
        owner_a.put(
            f"/api/v1/properties/{a.pk}",
            {"displayName": "A", "address": d.address(), "accessManagerIds": [], "ownerId": str(stranger.pk)},
            format="json",
        ),
        400,
    )
    assert body["error"].startswith("ownerId: Unknown user(s)")
    # keeping the current manager is fine
    data = d.ok(
        owner_a.put(
            f"/api/v1/properties/{a.pk}",
            {"displayName": "A", "address": d.address(), "accessManagerIds": [str(current.pk)]},
            format="json",
        )
    )
    assert data["accessManagerIds"] == [str(current.pk)]


def test_a_manager_changes_the_account_of_a_resident_of_its_own_property(manager_a, a):
    resident = d.user_create(email="old@example.test")
    d.member_add(d.property_group(a), resident)

    data = d.ok(_update(manager_a, resident, "new@example.test"))

    assert data["private"]["email"] == "new@example.test"
    assert User.objects.get(pk=resident.pk).email == "new@example.test"


def test_a_manager_cannot_change_someone_who_also_lives_elsewhere(manager_a, client_for, a, b):
    shared = d.user_create(email="shared@example.test")
    d.member_add(d.property_group(a), shared)
    d.member_add(d.property_group(b), shared)

    body = d.refused(_update(manager_a, shared, "attacker@example.test"), 403)

    assert "beyond your permissions" in body["error"]
    assert User.objects.get(pk=shared.pk).email == "shared@example.test"
    # a manager of both buildings may
    both, _ = client_for(Grant("manage-access", property_id=a.pk), Grant("manage-access", property_id=b.pk))
    d.ok(_update(both, shared, "moved@example.test"))
    assert User.objects.get(pk=shared.pk).email == "moved@example.test"


def test_an_owner_cannot_delete_someone_who_also_lives_elsewhere(owner_a, a, b):
    shared = d.user_create()
    d.member_add(d.property_group(a), shared)
    d.member_add(d.property_group(b), shared)

    d.refused(owner_a.delete(f"/api/v1/users/{shared.pk}"), 403)

    assert User.objects.get(pk=shared.pk).type_state == "active"


def test_a_manager_cannot_change_a_member_holding_more_than_it_does(manager_a, a):
    landlord = d.user_create(email="landlord@example.test", grants=[Grant("owner", property_id=a.pk)])
    d.member_add(d.property_group(a, "staff"), landlord)

    body = d.refused(_update(manager_a, landlord, "attacker@example.test"), 403)

    assert body["error"] == "this user holds owner beyond your permissions"
    assert User.objects.get(pk=landlord.pk).email == "landlord@example.test"


def test_staff_accounts_are_not_changed_through_the_api(client_for, a):
    staff = d.user_create(email="staff@example.test", is_staff=True)
    d.member_add(d.property_group(a, "staff"), staff)
    unscoped_owner, _ = client_for("owner")

    d.refused(_update(unscoped_owner, staff, "attacker@example.test"), 403)
    d.refused(unscoped_owner.delete(f"/api/v1/users/{staff.pk}"), 403)

    assert User.objects.get(pk=staff.pk).email == "staff@example.test"


def test_a_scoped_manager_places_the_user_it_creates_in_one_of_its_groups(manager_a, a, b):
    group_a, group_b = d.property_group(a), d.property_group(b)
    users_before = User.objects.count()

    body = d.refused(manager_a.post("/api/v1/users", _new_user(), format="json"), 400)
    assert body["error"].startswith("userGroupIds: ")
    body = d.refused(manager_a.post("/api/v1/users", _new_user(userGroupIds=[str(group_b.pk)]), format="json"), 400)
    assert body["error"] == f"userGroupIds: Unknown group(s): {group_b.pk}."
    assert User.objects.count() == users_before  # nothing half-written
    assert not Event.objects.filter(event_name="user.created").exists()

    data = d.ok(manager_a.post("/api/v1/users", _new_user(userGroupIds=[str(group_a.pk)]), format="json"))

    assert Membership.objects.filter(user_id=data["userId"], user_group=group_a).exists()
    assert d.ok(manager_a.get(f"/api/v1/users/{data['userId']}"))["private"]["email"] == "new@example.test"
    assert Event.objects.filter(event_name="group.member_added", user_id=data["userId"]).count() == 1


def test_an_owner_confers_any_permission_within_its_scope_and_no_further(client_for, a, b):
    unscoped_owner, _ = client_for("owner")
    data = d.ok(
        unscoped_owner.post(
            "/api/v1/users", _new_user(userPermissions=[{"permission": "manage-access"}]), format="json"
        )
    )
    assert data["userPermissions"] == [{"permission": "manage-access", "propertyId": None, "userId": None}]

    owner_a, _ = client_for(Grant("owner", property_id=a.pk))
    on_a = [{"permission": "support", "propertyId": str(a.pk)}]
    d.ok(owner_a.post("/api/v1/users", _new_user("s@example.test", userPermissions=on_a), format="json"))
    on_b = [{"permission": "support", "propertyId": str(b.pk)}]
    group_a = str(d.property_group(a).pk)
    d.refused(
        owner_a.post(
            "/api/v1/users", _new_user("t@example.test", userPermissions=on_b, userGroupIds=[group_a]), format="json"
        ),
        403,
    )
    manager_a, _ = client_for(Grant("manage-access", property_id=a.pk))
    owner_on_a = [{"permission": "owner", "propertyId": str(a.pk)}]
    d.refused(
        manager_a.post("/api/v1/users", _new_user("u@example.test", userPermissions=owner_on_a), format="json"), 403
    )


def test_a_manager_cannot_scope_a_new_person_s_permission_to_a_stranger(owner_a, a, b):
    """A userPermissions entry scoped to a person of another property reads as an unknown user."""
    stranger = d.user_create(email="stranger@example.test")
    d.member_add(d.property_group(b), stranger)
    group = d.property_group(a)
    for user_id in (stranger.pk, "01a24156-7df4-7522-8aa9-2ab10a1ede02"):
        grants = [{"permission": "support", "propertyId": str(a.pk), "userId": str(user_id)}]
        body = _new_user(userPermissions=grants, userGroupIds=[str(group.pk)])
        refused = d.refused(owner_a.post("/api/v1/users", body, format="json"), 400)
        assert refused["data"]["fields"] == {"userPermissions[0].userId": ["No such user."]}
    assert not User.objects.filter(email="new@example.test").exists()


def test_a_person_is_looked_up_by_email_among_those_the_caller_reaches(owner_a, a, b):
    """API.md "Finding things": listUsersForGroup?email= matches the whole address, any case,
    within the group the caller names (its property's group: everyone it placed there); another
    property's group is a 404, so a person of another property is never found."""
    resident, outsider = d.user_create(email="Rae@Example.test"), d.user_create(email="out@example.test")
    group_a, group_b = d.property_group(a), d.property_group(b)
    d.member_add(group_a, resident)
    d.member_add(group_b, outsider)
    url = f"/api/v1/properties/{a.pk}/groups/{group_a.pk}/users"
    found = d.ok(owner_a.get(url, {"email": "rae@example.TEST"}))["users"]
    assert [u["userId"] for u in found] == [str(resident.pk)]
    assert d.ok(owner_a.get(url, {"email": "rae@example"}))["users"] == []  # whole address, not contains
    assert d.ok(owner_a.get(url, {"email": "out@example.test"}))["users"] == []
    d.refused(owner_a.get(f"/api/v1/properties/{b.pk}/groups/{group_b.pk}/users", {"email": "out@example.test"}), 404)
