"""Staff admin for user groups and membership, and the user admin's directory tools (search by
phone, filters by property and group, "Add selected users to group…"). Every write goes
through apps.access / apps.accounts services, so each admin edit leaves its event."""

import re

import pytest

from apps.access.models import Membership, UserGroup
from apps.access.services import membership_add, user_group_create
from apps.accounts.models import User
from apps.areas.services import area_create
from apps.core.actors import SYSTEM
from apps.events.models import Event
from apps.properties.services import property_create
from tests.factories.accounts import UserFactory

pytestmark = pytest.mark.django_db

ADDRESS = {"line1": "1 Harbour Street", "city": "Portsmouth", "country": "GB", "postalCode": "PO1 1AA"}
GROUPS = "/admin/access/usergroup/"
USERS = "/admin/accounts/user/"


def make_property(name="Harbour House"):
    return property_create(display_name=name, address=ADDRESS, actor=SYSTEM)


@pytest.fixture
def prop():
    return make_property()


@pytest.fixture
def group(prop):
    return user_group_create(prop=prop, display_name="Gym members", group_type="common", actor=SYSTEM)


def formset(prefix: str, rows: list[dict], initial: int = 0) -> dict:
    data = {
        f"{prefix}-TOTAL_FORMS": str(len(rows)),
        f"{prefix}-INITIAL_FORMS": str(initial),
        f"{prefix}-MIN_NUM_FORMS": "0",
        f"{prefix}-MAX_NUM_FORMS": "1000",
    }
    for index, row in enumerate(rows):
        data.update({f"{prefix}-{index}-{field}": value for field, value in row.items()})
    return data


def change_data(group, *, display_name=None, remove=(), add=()) -> dict:
    """The change form: MemberInline ("memberships", existing rows) then MemberAddInline ("memberships-2")."""
    members = list(Membership.objects.filter(user_group=group).order_by("user__display_name", "user__email"))
    existing = [{"id": m.pk, "user_group": group.pk, **({"DELETE": "on"} if m.user in remove else {})} for m in members]
    return {
        "display_name": display_name or group.display_name,
        **formset("memberships", existing, initial=len(existing)),
        **formset("memberships-2", [{"user": user.pk, "user_group": group.pk} for user in add]),
    }


def listed_users(page: str) -> list[str]:
    return re.findall(r'<th class="field-email"><a href="[^"]+">([^<]+)</a>', page)


def test_admin_creates_a_custom_group_with_members(staff_client, prop):
    alice, bob = UserFactory(), UserFactory()
    data = {
        "property": prop.pk,
        "display_name": "Pool",
        "group_type": "common",
        **formset("memberships", [{"user": alice.pk}, {"user": bob.pk}, {"user": ""}]),
    }
    response = staff_client.post(f"{GROUPS}add/", data)
    assert response.status_code == 302, response.content.decode()[:3000]

    group = UserGroup.objects.get(display_name="Pool")
    assert group.group_source == "custom" and group.property == prop
    assert set(group.members.all()) == {alice, bob}
    assert Event.objects.filter(event_name="group.created", user_group_id=group.pk).exists()
    added = Event.objects.filter(event_name="group.member_added", user_group_id=group.pk)
    assert {e.user_id for e in added} == {alice.pk, bob.pk}
    assert all(e.last_modified_by.startswith("staff:") for e in added)


def test_change_page_adds_and_removes_members_through_the_service(staff_client, group):
    alice, bob, carol = UserFactory(), UserFactory(), UserFactory()
    membership_add(group=group, user=alice, actor=SYSTEM)
    membership_add(group=group, user=bob, actor=SYSTEM)
    url = f"{GROUPS}{group.pk}/change/"
    page = staff_client.get(url).content.decode()
    assert f'href="/admin/accounts/user/{alice.pk}/change/"' in page
    assert 'name="memberships-2-0-user"' in page and "admin-autocomplete" in page

    response = staff_client.post(url, change_data(group, display_name="Gym", remove=[bob], add=[carol]))
    assert response.status_code == 302, response.content.decode()[:3000]

    group.refresh_from_db()
    assert group.display_name == "Gym"
    assert set(group.members.all()) == {alice, carol}
    assert Event.objects.filter(event_name="group.updated", user_group_id=group.pk).count() == 1
    assert Event.objects.get(event_name="group.member_removed").user_id == bob.pk
    assert Event.objects.filter(event_name="group.member_added", user_id=carol.pk).count() == 1


def test_adding_someone_already_in_the_group_changes_nothing(staff_client, group):
    alice = UserFactory(display_name="Alice")
    membership_add(group=group, user=alice, actor=SYSTEM)
    response = staff_client.post(f"{GROUPS}{group.pk}/change/", change_data(group, add=[alice]), follow=True)
    assert "Alice &lt;" in response.content.decode() and "was already in the group" in response.content.decode()
    assert Event.objects.filter(event_name="group.member_added").count() == 1  # spec: adding twice is no error


def test_member_autocomplete_offers_only_live_people(staff_client, group):
    live = UserFactory(display_name="Dana Live")
    gone = UserFactory(display_name="Dana Gone")
    staff_client.post(f"{USERS}{gone.pk}/delete/", {"post": "yes"})
    response = staff_client.get(
        "/admin/autocomplete/",
        {"app_label": "access", "model_name": "membership", "field_name": "user", "term": "dana"},
    )
    assert [r["id"] for r in response.json()["results"]] == [str(live.pk)]


def test_group_list_filters_and_member_counts(staff_client, prop, group):
    membership_add(group=group, user=UserFactory(), actor=SYSTEM)
    area_create(prop=prop, display_name="Unit 1", area_type="resident", actor=SYSTEM)
    page = staff_client.get(f"{GROUPS}?group_source__exact=custom").content.decode()
    assert re.findall(r'<th class="field-display_name"><a[^>]*>([^<]+)</a>', page) == ["Gym members"]
    assert f'href="/admin/accounts/user/?group={group.pk}">1</a>' in page
    page = staff_client.get(f"{GROUPS}?group_source__exact=area&group_type__exact=resident").content.decode()
    assert re.findall(r'<th class="field-display_name"><a[^>]*>([^<]+)</a>', page) == ["Unit 1 members"]


def test_custom_group_delete_goes_through_the_service(staff_client, group):
    membership_add(group=group, user=UserFactory(), actor=SYSTEM)
    response = staff_client.post(f"{GROUPS}{group.pk}/delete/", {"post": "yes"})
    assert response.status_code == 302
    group.refresh_from_db()
    assert group.type_state == "deleted" and not group.memberships.exists()
    assert Event.objects.filter(event_name="group.deleted", user_group_id=group.pk).exists()


def test_property_and_area_groups_cannot_be_deleted_alone(staff_client, prop, group):
    residents = UserGroup.objects.get(property=prop, group_source="property", group_type="resident")
    assert staff_client.get(f"{GROUPS}{residents.pk}/delete/").status_code == 403

    selection = {"action": "delete_selected", "_selected_action": [residents.pk, group.pk], "post": "yes"}
    page = staff_client.post(GROUPS, selection, follow=True).content.decode()
    assert "property groups are deleted with their property" in page
    assert "Deleted 1 user group." in page
    residents.refresh_from_db()
    assert residents.type_state == "active"


def test_user_search_by_name_email_and_phone(staff_client):
    UserFactory(email="ann@example.test", display_name="Ann Lee", phone_number="+14155550123")
    UserFactory(email="bo@example.test", display_name="Bo Chan", phone_number="+442071234567")
    assert listed_users(staff_client.get(f"{USERS}?q=4155550").content.decode()) == ["ann@example.test"]
    assert listed_users(staff_client.get(f"{USERS}?q=chan").content.decode()) == ["bo@example.test"]
    assert listed_users(staff_client.get(f"{USERS}?q=ann@").content.decode()) == ["ann@example.test"]


def test_user_filters_by_property_and_group(staff_client, prop, group):
    other = make_property("Other")
    other_residents = UserGroup.objects.get(property=other, group_source="property", group_type="resident")
    ann, bo, cy = (UserFactory(email=f"{n}@example.test") for n in ("ann", "bo", "cy"))
    membership_add(group=group, user=ann, actor=SYSTEM)
    membership_add(group=UserGroup.objects.get(property=prop, group_type="staff"), user=ann, actor=SYSTEM)
    membership_add(group=other_residents, user=bo, actor=SYSTEM)

    page = staff_client.get(f"{USERS}?property={prop.pk}").content.decode()
    assert listed_users(page) == ["ann@example.test"]  # once, though in two of its groups
    assert "Gym members · Harbour House" in page  # the group filter lists the chosen property's groups
    assert listed_users(staff_client.get(f"{USERS}?property={other.pk}").content.decode()) == ["bo@example.test"]
    assert listed_users(staff_client.get(f"{USERS}?group={group.pk}").content.decode()) == ["ann@example.test"]
    assert staff_client.get(f"{USERS}?property=not-a-uuid").status_code == 302  # Django's "?e=1", not a 500
    assert cy  # in no group: in neither list


def test_bulk_add_selected_users_to_a_group(staff_client, group):
    ann, bo = UserFactory(), UserFactory()
    membership_add(group=group, user=ann, actor=SYSTEM)
    selection = {"action": "add_to_group", "_selected_action": [ann.pk, bo.pk]}

    page = staff_client.post(USERS, selection).content.decode()
    assert "Add users to a group" in page
    assert re.search(r'<optgroup label="Harbour House">.*Gym members \(custom group\)', page, re.S)

    response = staff_client.post(USERS, {**selection, "group": group.pk, "apply": "Add to group"}, follow=True)
    assert "Added 1 user(s) to Gym members · Harbour House; 1 already in it." in response.content.decode()
    assert set(group.members.all()) == {ann, bo}
    added = Event.objects.filter(event_name="group.member_added", user_id=bo.pk).get()
    assert added.last_modified_by.startswith("staff:")
    assert Event.objects.filter(event_name="group.member_added", user_id=ann.pk).count() == 1  # not twice


def test_user_delete_goes_through_the_service(staff_client, group):
    person = UserFactory()
    membership_add(group=group, user=person, actor=SYSTEM)
    response = staff_client.post(f"{USERS}{person.pk}/delete/", {"post": "yes"})
    assert response.status_code == 302
    person = User.objects.get(pk=person.pk)
    assert person.type_state == "deleted" and not person.memberships.exists()
    assert Event.objects.filter(event_name="user.deleted", user_id=person.pk).exists()
    assert Event.objects.filter(event_name="group.member_removed", user_id=person.pk).exists()


def test_deleting_a_property_owner_is_refused_with_the_services_message(staff_client):
    owner = UserFactory()
    property_create(display_name="Owned", address=ADDRESS, owner_id=owner.pk, actor=SYSTEM)
    response = staff_client.post(f"{USERS}{owner.pk}/delete/", {"post": "yes"}, follow=True)
    assert response.redirect_chain[0][0] == f"{USERS}{owner.pk}/change/"
    assert "owns properties" in response.content.decode()
    owner.refresh_from_db()
    assert owner.type_state == "active"
