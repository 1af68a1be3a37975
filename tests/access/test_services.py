"""User group and membership services: events once per real change, guarded deletes."""

import pytest

from apps.access import selectors, services
from apps.access import services as access_services
from apps.access.models import Membership, UserGroup
from apps.core.actors import SYSTEM
from apps.core.exceptions import ApplicationError, ConflictError
from apps.events.models import Event
from tests.factories import directory as d

pytestmark = pytest.mark.django_db


@pytest.fixture
def prop():
    return d.property_create()


def _events(name: str, **filters) -> int:
    return Event.objects.filter(event_name=name, **filters).count()


def test_create_custom_group(prop):
    group = services.user_group_create(prop=prop, display_name="Pool users", group_type="common", actor="k")
    group.refresh_from_db()
    assert (group.group_source, group.group_type, group.area_id, group.last_modified_by) == (
        "custom",
        "common",
        None,
        "k",
    )
    event = Event.objects.get(event_name="group.created", user_group_id=group.pk)
    assert event.property_id == prop.pk
    assert event.payload == {"groupSource": "custom", "groupType": "common"}


def test_rename_is_the_only_update_and_a_same_name_update_is_silent(prop):
    group = d.group_create(prop, display_name="Old")
    services.user_group_update(group=group, display_name="New", actor=SYSTEM)
    services.user_group_update(group=group, display_name="New", actor=SYSTEM)
    assert UserGroup.objects.get(pk=group.pk).display_name == "New"
    assert _events("group.updated", user_group_id=group.pk) == 1


def test_adding_twice_is_one_membership_and_one_event(prop):
    group, user = d.group_create(prop), d.user_create()
    assert services.membership_add(group=group, user=user, actor=SYSTEM) is True
    assert services.membership_add(group=group, user=user, actor=SYSTEM) is False
    assert Membership.objects.filter(user_group=group, user=user).count() == 1
    assert _events("group.member_added", user_group_id=group.pk, user_id=user.pk) == 1


def test_removing_a_non_member_changes_nothing(prop):
    group, member, stranger = d.group_create(prop), d.user_create(), d.user_create()
    d.member_add(group, member)
    assert services.membership_remove(group=group, user=stranger, actor=SYSTEM) is False
    assert _events("group.member_removed") == 0
    assert services.membership_remove(group=group, user=member, actor=SYSTEM) is True
    assert services.membership_remove(group=group, user=member, actor=SYSTEM) is False
    assert _events("group.member_removed", user_group_id=group.pk, user_id=member.pk) == 1
    assert not Membership.objects.filter(user_group=group).exists()


@pytest.mark.parametrize("source", ["area", "property"])
def test_area_and_property_groups_cannot_be_deleted_alone(prop, source):
    group = d.area_create(prop).area_user_group if source == "area" else d.property_group(prop)
    with pytest.raises(ApplicationError) as exc:
        services.user_group_delete(group=group, actor=SYSTEM)
    assert exc.value.status == 400
    assert UserGroup.objects.get(pk=group.pk).type_state == "active"
    assert _events("group.deleted") == 0


def test_group_named_by_an_access_list_cannot_be_deleted(prop):
    group = d.group_create(prop)
    holder = d.area_create(prop)
    access_services.area_update(
        area=holder, access_list=[{"accessType": "group", "userGroupId": str(group.pk)}], actor=SYSTEM
    )
    with pytest.raises(ConflictError) as exc:
        services.user_group_delete(group=group, actor=SYSTEM)
    assert exc.value.extra["blockedBy"] == {"areaIds": [str(holder.pk)]}
    assert UserGroup.objects.get(pk=group.pk).type_state == "active"


def test_delete_custom_group_drops_its_memberships(prop):
    group, user = d.group_create(prop), d.user_create()
    other = d.group_create(prop, members=[user])
    d.member_add(group, user)
    deleted = services.user_group_delete(group=group, actor="k")
    assert (deleted.type_state, deleted.last_modified_by) == ("deleted", "k")
    assert list(Membership.objects.filter(user=user).values_list("user_group_id", flat=True)) == [other.pk]
    assert _events("group.deleted", user_group_id=group.pk) == 1


def test_selectors_show_live_groups_and_member_properties():
    a, b, c = d.property_create(), d.property_create(), d.property_create()
    user = d.user_create()
    in_a = d.group_create(a, members=[user])
    in_b = d.group_create(b, members=[user])
    d.group_create(c)  # not a member there
    assert list(selectors.user_groups_of_user(user_id=user.pk)) == [in_a, in_b]
    assert list(selectors.user_groups_of_user(user_id=user.pk, property_id=b.pk)) == [in_b]
    assert list(selectors.user_groups_of_user(user_id=user.pk, property_ids=frozenset({a.pk}))) == [in_a]
    assert selectors.member_property_ids(user_id=user.pk) == {a.pk, b.pk}
    services.user_group_delete(group=in_b, actor=SYSTEM)
    assert list(selectors.user_groups_of_user(user_id=user.pk)) == [in_a]
    assert selectors.member_property_ids(user_id=user.pk) == {a.pk}
    assert selectors.user_group_get(property_id=a.pk, user_group_id=in_b.pk) is None
