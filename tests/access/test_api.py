"""DoorLock operations 11–20 over HTTP: user groups of a property and their members."""

import uuid

import pytest

from apps.access import services as access_services
from apps.access.models import Membership
from apps.core.principal import Grant
from apps.events.models import Event
from tests.factories import directory as d

pytestmark = pytest.mark.django_db

GROUP_FIELDS = {
    "propertyId",
    "userGroupId",
    "groupSource",
    "externalRefs",
    "areaId",
    "displayName",
    "groupType",
    "type",
    "typeState",
    "createdAt",
    "lastModifiedAt",
    "lastModifiedBy",
}
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


@pytest.fixture
def prop():
    return d.property_create()


def _groups_url(prop, group=None) -> str:
    base = f"/api/v1/properties/{prop.pk}/groups"
    return base if group is None else f"{base}/{group if isinstance(group, str) else group.pk}"


def _member_url(prop, group, user) -> str:
    return f"{_groups_url(prop, group)}/users/{user.pk}"


def _ids(items, key="userGroupId") -> list[str]:
    return [item[key] for item in items]


# -- createUserGroup / getUserGroup / updateUserGroup ---------------------------------------------


def test_create_user_group_returns_the_spec_user_group(client_for, prop):
    client, key = client_for("owner")
    data = d.ok(client.post(_groups_url(prop), {"groupType": "staff", "displayName": "Cleaners"}, format="json"))
    assert set(data) == GROUP_FIELDS
    assert (data["groupType"], data["groupSource"], data["displayName"]) == ("staff", "custom", "Cleaners")
    assert (data["propertyId"], data["areaId"], data["externalRefs"]) == (str(prop.pk), None, [])
    assert (data["type"], data["typeState"], data["lastModifiedBy"]) == ("userGroup", "active", f"apiKey:{key.pk}")
    assert d.ok(client.get(_groups_url(prop, data["userGroupId"]))) == data
    assert Event.objects.filter(event_name="group.created", user_group_id=data["userGroupId"]).count() == 1


def test_create_user_group_with_group_type_only_gets_a_name(owner_client, prop):
    data = d.ok(owner_client.post(_groups_url(prop), {"groupType": "resident"}, format="json"))
    assert data["displayName"]  # required on UserGroup, so one is made up
    assert data["groupType"] == "resident"


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({}, "groupType"),
        ({"groupType": "visitors"}, "groupType"),
        ({"groupType": "staff", "groupSource": "area"}, "groupSource"),
    ],
)
def test_create_user_group_validation(owner_client, prop, body, field):
    before = Event.objects.count()
    assert field in d.refused(owner_client.post(_groups_url(prop), body, format="json"), 400)["data"]["fields"]
    assert Event.objects.count() == before


def test_update_user_group_renames_only(owner_client, prop):
    group = d.group_create(prop, group_type="resident")
    data = d.ok(owner_client.put(_groups_url(prop, group), {"displayName": "Tenants"}, format="json"))
    assert (data["displayName"], data["groupType"], data["groupSource"]) == ("Tenants", "resident", "custom")
    body = d.refused(
        owner_client.put(_groups_url(prop, group), {"displayName": "x", "groupType": "staff"}, format="json"), 400
    )
    assert body["data"]["fields"] == {"groupType": ["Unknown field."]}
    assert d.ok(owner_client.get(_groups_url(prop, group)))["displayName"] == "Tenants"


def test_group_of_another_property_is_404_on_this_property_path(owner_client, prop):
    foreign = d.group_create(d.property_create())
    user = d.user_create()
    d.refused(owner_client.get(_groups_url(prop, foreign)), 404)
    d.refused(owner_client.put(_groups_url(prop, foreign), {"displayName": "x"}, format="json"), 404)
    d.refused(owner_client.delete(_groups_url(prop, foreign)), 404)
    d.refused(owner_client.get(f"{_groups_url(prop, foreign)}/users"), 404)
    d.refused(owner_client.post(_member_url(prop, foreign, user)), 404)
    assert not Membership.objects.exists()


# -- listUserGroups --------------------------------------------------------------------------------


def test_list_user_groups_shows_property_area_and_custom_groups(owner_client, prop):
    area = d.area_create(prop, area_type="common")
    custom = d.group_create(prop, group_type="staff")
    d.group_create(d.property_create())  # another property's group stays out
    data = d.ok(owner_client.get(_groups_url(prop)))
    assert set(data) == {"groups", "pageToken"}
    groups = data["groups"]
    assert all(set(g) == GROUP_FIELDS for g in groups)
    assert sorted((g["groupSource"], g["groupType"]) for g in groups) == [
        ("area", "common"),
        ("custom", "staff"),
        ("property", "resident"),
        ("property", "staff"),
    ]
    assert {g["propertyId"] for g in groups} == {str(prop.pk)}
    assert str(custom.pk) in _ids(groups)
    assert [g["areaId"] for g in groups if g["groupSource"] == "area"] == [str(area.pk)]


def test_list_user_groups_filters_and_pages(owner_client, prop):
    area = d.area_create(prop, area_type="staff")
    custom = [d.group_create(prop, group_type="resident") for _ in range(3)]

    def listed(**params):
        return _ids(d.ok(owner_client.get(_groups_url(prop), params))["groups"])

    assert listed(groupSource="custom") == [str(g.pk) for g in custom]
    assert listed(groupSource="area") == [str(area.area_user_group.pk)]
    assert listed(groupType="staff") == [str(d.property_group(prop, "staff").pk), str(area.area_user_group.pk)]
    assert listed(groupSource="custom", groupType="staff") == []
    assert "groupType" in d.refused(owner_client.get(_groups_url(prop), {"groupType": "x"}), 400)["data"]["fields"]
    pages = d.all_pages(owner_client, _groups_url(prop), "groups", page_size=2, groupSource="custom")
    assert [len(p) for p in pages] == [2, 1]
    assert [g["userGroupId"] for page in pages for g in page] == [str(g.pk) for g in custom]
    everything = d.all_pages(owner_client, _groups_url(prop), "groups", page_size=4)
    assert [len(p) for p in everything] == [4, 2]


# -- deleteUserGroup -------------------------------------------------------------------------------


def test_delete_user_group_returns_it_deleted_then_it_is_gone(owner_client, prop):
    keep, gone = d.group_create(prop), d.group_create(prop)
    member = d.user_create()
    d.member_add(gone, member)
    data = d.ok(owner_client.delete(_groups_url(prop, gone)))
    assert set(data) == GROUP_FIELDS
    assert (data["userGroupId"], data["typeState"]) == (str(gone.pk), "deleted")
    d.refused(owner_client.get(_groups_url(prop, gone)), 404)
    d.refused(owner_client.delete(_groups_url(prop, gone)), 404)
    d.refused(owner_client.get(f"{_groups_url(prop, gone)}/users"), 404)
    d.refused(owner_client.post(_member_url(prop, gone, member)), 404)
    listed = _ids(d.ok(owner_client.get(_groups_url(prop), {"groupSource": "custom"}))["groups"])
    assert listed == [str(keep.pk)]
    assert not Membership.objects.filter(user_group=gone).exists()
    assert d.ok(owner_client.get(f"/api/v1/users/{member.pk}/groups"))["groups"] == []


@pytest.mark.parametrize("source", ["area", "property"])
def test_area_or_property_group_delete_alone_is_400(owner_client, prop, source):
    group = d.area_create(prop).area_user_group if source == "area" else d.property_group(prop)
    body = d.refused(owner_client.delete(_groups_url(prop, group)), 400)
    assert source in body["error"]
    assert d.ok(owner_client.get(_groups_url(prop, group)))["typeState"] == "active"


def test_group_named_by_an_access_list_delete_is_409(owner_client, prop):
    group = d.group_create(prop)
    holder = d.area_create(prop, access_list=[{"accessType": "group", "userGroupId": str(group.pk)}])
    body = d.refused(owner_client.delete(_groups_url(prop, group)), 409)
    assert body["data"]["blockedBy"] == {"areaIds": [str(holder.pk)]}
    d.ok(owner_client.get(_groups_url(prop, group)))


# -- membership -------------------------------------------------------------------------------------


def test_adding_a_member_twice_is_200_twice_and_one_event(owner_client, prop):
    group, user = d.group_create(prop), d.user_create()
    assert d.ok(owner_client.post(_member_url(prop, group, user))) == {}
    assert d.ok(owner_client.post(_member_url(prop, group, user))) == {}
    assert Membership.objects.filter(user_group=group, user=user).count() == 1
    assert Event.objects.filter(event_name="group.member_added", user_group_id=group.pk, user_id=user.pk).count() == 1


def test_removing_a_member_and_a_non_member(owner_client, prop):
    group, member, stranger = d.group_create(prop), d.user_create(), d.user_create()
    d.member_add(group, member)
    noop = owner_client.delete(_member_url(prop, group, stranger))
    assert d.ok(noop) == {} and noop.json()["eventIds"] == []  # nothing changed, nothing to follow
    assert not Event.objects.filter(event_name="group.member_removed").exists()
    assert d.ok(owner_client.delete(_member_url(prop, group, member))) == {}
    assert Event.objects.filter(event_name="group.member_removed", user_id=member.pk).count() == 1
    assert d.ok(owner_client.get(f"{_groups_url(prop, group)}/users"))["users"] == []


def test_adding_an_unknown_or_deleted_user_is_404(owner_client, prop):
    group = d.group_create(prop)
    d.refused(owner_client.post(f"{_groups_url(prop, group)}/users/{uuid.uuid4()}"), 404)
    gone = d.user_create()
    access_services.user_delete(user=gone, actor="system")
    d.refused(owner_client.post(_member_url(prop, group, gone)), 404)
    assert not Membership.objects.exists()


def test_area_group_members_can_be_managed_like_any_group(owner_client, prop):
    area = d.area_create(prop)
    user = d.user_create()
    d.ok(owner_client.post(_member_url(prop, area.area_user_group, user)))
    users = d.ok(owner_client.get(f"{_groups_url(prop, area.area_user_group)}/users"))["users"]
    assert _ids(users, "userId") == [str(user.pk)]


# -- listUsersForGroup -------------------------------------------------------------------------------


def test_list_users_for_group(owner_client, prop):
    group = d.group_create(prop)
    alice = d.user_create(display_name="Alice Archer", email="alice@example.test")
    bob = d.user_create(display_name="Bob Baker", email="bob@builders.test")
    d.user_create(display_name="Alice Outsider")  # not a member
    for user in (alice, bob):
        d.member_add(group, user)
    d.member_add(d.group_create(prop), alice)  # another group of hers does not duplicate her
    data = d.ok(owner_client.get(f"{_groups_url(prop, group)}/users"))
    assert set(data) == {"users", "pageToken"}
    assert _ids(data["users"], "userId") == [str(alice.pk), str(bob.pk)]
    assert all(set(u) == USER_FIELDS for u in data["users"])  # an owner sees `private`
    assert data["users"][0]["private"]["email"] == "alice@example.test"


@pytest.mark.parametrize(("q", "who"), [("alice", ["alice"]), ("BUILDERS", ["bob"]), ("example", ["alice"]), ("z", [])])
def test_list_users_for_group_q_matches_name_or_email(owner_client, prop, q, who):
    group = d.group_create(prop)
    people = {
        "alice": d.user_create(display_name="Alice Archer", email="alice@example.test"),
        "bob": d.user_create(display_name="Bob Baker", email="bob@builders.test"),
    }
    for user in people.values():
        d.member_add(group, user)
    listed = _ids(d.ok(owner_client.get(f"{_groups_url(prop, group)}/users", {"q": q}))["users"], "userId")
    assert listed == [str(people[name].pk) for name in who]


def test_list_users_for_group_pages(owner_client, prop):
    group = d.group_create(prop)
    members = [d.user_create() for _ in range(5)]
    for user in members:
        d.member_add(group, user)
    pages = d.all_pages(owner_client, f"{_groups_url(prop, group)}/users", "users", page_size=2)
    assert [len(p) for p in pages] == [2, 2, 1]
    assert [u["userId"] for page in pages for u in page] == [str(u.pk) for u in members]


def test_support_sees_group_members_without_their_private_part(client_for, prop):
    group = d.group_create(prop)
    d.member_add(group, d.user_create())
    client, _ = client_for(Grant("support", property_id=prop.pk))
    users = d.ok(client.get(f"{_groups_url(prop, group)}/users"))["users"]
    assert len(users) == 1 and "private" not in users[0]
    assert "@" not in str(users)


# -- listGroupsForUser / listGroupsForUserAtProperty ------------------------------------------------


@pytest.fixture
def commuter():
    """A person in groups of two properties, A and B."""
    a, b = d.property_create(), d.property_create()
    user = d.user_create()
    groups = {
        "a_custom": d.group_create(a, group_type="staff", members=[user]),
        "a_residents": d.property_group(a),
        "b_custom": d.group_create(b, members=[user]),
    }
    d.member_add(groups["a_residents"], user)
    d.group_create(a)  # not a member
    return {"user": user, "a": a, "b": b, **groups}


def test_list_groups_for_user_across_properties(owner_client, commuter):
    data = d.ok(owner_client.get(f"/api/v1/users/{commuter['user'].pk}/groups"))
    assert set(data) == {"groups", "pageToken"}
    expected = sorted(str(commuter[k].pk) for k in ("a_custom", "a_residents", "b_custom"))
    assert sorted(_ids(data["groups"])) == expected
    assert all(set(g) == GROUP_FIELDS for g in data["groups"])
    pages = d.all_pages(owner_client, f"/api/v1/users/{commuter['user'].pk}/groups", "groups", page_size=2)
    assert [len(p) for p in pages] == [2, 1]
    assert sorted(g["userGroupId"] for page in pages for g in page) == expected
    filtered = d.ok(owner_client.get(f"/api/v1/users/{commuter['user'].pk}/groups", {"groupSource": "custom"}))
    assert sorted(_ids(filtered["groups"])) == sorted([str(commuter["a_custom"].pk), str(commuter["b_custom"].pk)])
    staff = d.ok(owner_client.get(f"/api/v1/users/{commuter['user'].pk}/groups", {"groupType": "staff"}))
    assert _ids(staff["groups"]) == [str(commuter["a_custom"].pk)]


def test_list_groups_for_user_with_a_scoped_key_shows_only_that_property(client_for, commuter):
    client, _ = client_for(Grant("manage-access", property_id=commuter["a"].pk))
    groups = d.ok(client.get(f"/api/v1/users/{commuter['user'].pk}/groups"))["groups"]
    assert {g["propertyId"] for g in groups} == {str(commuter["a"].pk)}
    assert str(commuter["b_custom"].pk) not in str(groups)


def test_list_groups_for_user_at_property(owner_client, commuter):
    url = f"/api/v1/users/{commuter['user'].pk}/properties/{commuter['a'].pk}/groups"
    data = d.ok(owner_client.get(url))
    assert set(data) == {"groups", "pageToken"}
    assert sorted(_ids(data["groups"])) == sorted([str(commuter["a_custom"].pk), str(commuter["a_residents"].pk)])
    pages = d.all_pages(owner_client, url, "groups", page_size=1)
    assert [len(p) for p in pages] == [1, 1]
    assert _ids(d.ok(owner_client.get(url, {"groupSource": "property"}))["groups"]) == [str(commuter["a_residents"].pk)]
    other = d.ok(owner_client.get(f"/api/v1/users/{commuter['user'].pk}/properties/{commuter['b'].pk}/groups"))
    assert _ids(other["groups"]) == [str(commuter["b_custom"].pk)]
    d.refused(owner_client.get(f"/api/v1/users/{commuter['user'].pk}/properties/{uuid.uuid4()}/groups"), 404)
    d.refused(owner_client.get(f"/api/v1/users/{uuid.uuid4()}/properties/{commuter['a'].pk}/groups"), 404)


def test_groups_of_a_removed_member_and_of_a_deleted_group_disappear(owner_client, commuter):
    user, a = commuter["user"], commuter["a"]
    d.ok(owner_client.delete(_member_url(a, commuter["a_custom"], user)))
    d.ok(owner_client.delete(_groups_url(commuter["b"], commuter["b_custom"])))
    assert _ids(d.ok(owner_client.get(f"/api/v1/users/{user.pk}/groups"))["groups"]) == [
        str(commuter["a_residents"].pk)
    ]
