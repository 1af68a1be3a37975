"""Staff admin for user groups and membership, and the user admin's directory tools (search by
phone, filters by property and group, "Add selected users to group…"); then the access
model's admin: schedules (grid JSON), the access list on the area page, grants, blocks, locks
and "Explain access". Every write goes through the services, so each admin edit leaves its
event."""

import html
import re
from datetime import timedelta
from types import SimpleNamespace

import pytest
from django.test import Client
from django.utils import timezone

from apps.access import services as access_services
from apps.access.models import AccessBlock, AccessGrant, Membership, Schedule, UserGroup
from apps.access.services import area_create, membership_add, property_create, user_group_create
from apps.accounts.models import User
from apps.core.actors import SYSTEM
from apps.events.models import Event
from apps.locks.models import Lock
from tests.factories import access as a
from tests.factories import directory as d
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


# --- access model admin ------------------------------------------------------------------

SCHEDULES = "/admin/access/schedule/"
GRANTS = "/admin/access/accessgrant/"
BLOCKS = "/admin/access/accessblock/"
LOCKS = "/admin/locks/lock/"
EXPLAIN = "/admin/access/accessgrant/explain/"


@pytest.fixture
def tower():
    """Tower (resident) with Unit 1, Unit 2 (resident) and the Lobby (common), one lock each;
    Tower's access list names the property's Residents group. Alice lives in Unit 1, Bob in
    Unit 2 (both residents). Derived access is processed."""
    prop = d.property_create(display_name="Tower", time_zone="Europe/London")
    residents = d.property_group(prop, "resident")
    building = d.area_create(
        prop, display_name="Tower", access_list=[{"accessType": "group", "userGroupId": str(residents.pk)}]
    )
    unit1 = d.area_create(prop, display_name="Unit 1", parent=building)
    unit2 = d.area_create(prop, display_name="Unit 2", parent=building)
    lobby = d.area_create(prop, display_name="Lobby", area_type="common", parent=building)
    alice, bob = d.user_create(display_name="Alice"), d.user_create(display_name="Bob")
    for group, person in ((residents, alice), (residents, bob), (unit1.area_user_group, alice)):
        d.member_add(group, person)
    d.member_add(unit2.area_user_group, bob)
    w = SimpleNamespace(
        prop=prop,
        residents=residents,
        building=building,
        unit1=unit1,
        unit2=unit2,
        lobby=lobby,
        alice=alice,
        bob=bob,
        door1=a.lock_in(unit1, "Unit 1 door"),
        door2=a.lock_in(unit2, "Unit 2 door"),
        lobby_door=a.lock_in(lobby, "Lobby door"),
    )
    a.process_events()
    return w


def page_text(response) -> str:
    return html.unescape(re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", response.content.decode())))


def schedule_post(prop=None, **fields) -> dict:
    data = {"display_name": "Office hours", "valid_from_0": "", "valid_from_1": "", "valid_until_0": ""}
    data["valid_until_1"] = ""
    if prop is not None:
        data["property"] = prop.pk
    return {**data, **fields}


def test_schedule_saved_from_the_grid_json_is_created_by_the_service(staff_client, tower):
    # What static/keyhouse/schedule_grid.js writes after dragging Mon–Fri 08:00–18:00 and clicking Sat 10:00.
    grid_json = (
        '[\n  {"days": ["mon", "tue", "wed", "thu", "fri"], "start": "08:00", "stop": "18:00"},\n'
        '  {"days": ["sat"], "start": "10:00", "stop": "10:30"}\n]'
    )
    response = staff_client.post(f"{SCHEDULES}add/", schedule_post(tower.prop, windows=grid_json))
    assert response.status_code == 302, page_text(response)[:2000]

    schedule = Schedule.objects.get(display_name="Office hours")
    assert schedule.property == tower.prop
    assert schedule.windows == [
        {"days": ["mon", "tue", "wed", "thu", "fri"], "start": "08:00", "stop": "18:00"},
        {"days": ["sat"], "start": "10:00", "stop": "10:30"},
    ]
    created = Event.objects.get(event_name="schedule.created")
    assert created.payload == {"scheduleId": str(schedule.pk)}
    assert created.last_modified_by.startswith("staff:")

    page = staff_client.get(SCHEDULES).content.decode()
    assert "Mon–Fri 08:00–18:00; Sat 10:00–10:30" in page


def test_a_refused_window_is_named_on_the_form(staff_client, tower):
    windows = (
        '[{"days": ["mon"], "start": "08:00", "stop": "18:00"}, {"days": ["tue"], "start": "09:00", "stop": "09:00"}]'
    )
    response = staff_client.post(f"{SCHEDULES}add/", schedule_post(tower.prop, windows=windows))
    assert response.status_code == 200
    errors = re.search(r'field-windows">\s*<ul class="errorlist"[^>]*>(.*?)</ul>', response.content.decode(), re.S)
    assert errors and "windows[1].stop: Must differ from start" in errors[1]
    assert "09:00" in response.content.decode()  # the submitted JSON is shown again, to fix
    assert not Schedule.objects.exists()
    assert not Event.objects.filter(event_name="schedule.created").exists()

    response = staff_client.post(f"{SCHEDULES}add/", schedule_post(tower.prop, windows="[{"))
    assert "Enter a valid JSON." in response.content.decode()


def test_windows_the_grid_cannot_draw_are_kept_as_they_are(staff_client, tower):
    windows = [
        {"days": ["sat"], "start": "22:00", "stop": "02:00"},  # crosses midnight
        {"days": ["mon"], "start": "08:00:30", "stop": "09:00"},  # seconds
    ]
    schedule = access_services.schedule_create(prop=tower.prop, display_name="Late", windows=windows, actor=SYSTEM)
    page = staff_client.get(f"{SCHEDULES}{schedule.pk}/change/").content.decode()
    assert 'data-schedule-grid="30"' in page and "keyhouse/schedule_grid.js" in page
    assert "{&quot;days&quot;: [&quot;sat&quot;], &quot;start&quot;: &quot;22:00&quot;" in page
    assert "Europe/London" in page  # the zone the windows are read in

    textarea = re.search(r"<textarea[^>]*>(.*?)</textarea>", page, re.S)[1].replace("&quot;", '"')
    data = schedule_post(display_name="Late", windows=textarea)
    del data["display_name"]
    response = staff_client.post(f"{SCHEDULES}{schedule.pk}/change/", {**data, "display_name": "Late"})
    assert response.status_code == 302
    schedule.refresh_from_db()
    assert schedule.windows == windows
    assert not Event.objects.filter(event_name="schedule.updated").exists()  # nothing changed


def test_a_schedule_in_use_is_not_deleted(staff_client, tower):
    schedule = access_services.schedule_create(
        prop=tower.prop,
        display_name="Gym hours",
        windows=[{"days": ["mon"], "start": "06:00", "stop": "22:00"}],
        actor=SYSTEM,
    )
    entries = [*tower.building.access_list, {"accessType": "schedule", "scheduleId": str(schedule.pk)}]
    tower.building = d.access_services.area_update(area=tower.building, access_list=entries, actor=SYSTEM)
    page = staff_client.get(f"{SCHEDULES}{schedule.pk}/change/").content.decode()
    assert re.search(r"Access lists using it.*Tower", page, re.S)
    response = staff_client.post(f"{SCHEDULES}{schedule.pk}/delete/", {"post": "yes"}, follow=True)
    assert "is used by the access list of areas" in response.content.decode()
    assert Schedule.objects.get(pk=schedule.pk).type_state == "active"


def access_list_post(area, rows: list[dict], *, initial: int) -> dict:
    """The area change form: its own fields plus the access-list formset ("accesslist")."""
    return {
        "display_name": area.display_name,
        "parent": area.parent_id or "",
        **formset("accesslist", rows, initial=initial),
    }


def test_access_list_edit_bumps_the_version_and_emits_area_updated(staff_client, tower):
    w = tower
    gym = access_services.schedule_create(
        prop=w.prop, display_name="Day", windows=[{"days": ["mon"], "start": "06:00", "stop": "22:00"}], actor=SYSTEM
    )
    url = f"/admin/areas/area/{w.building.pk}/change/"
    page = staff_client.get(url).content.decode()
    assert "Access list" in page and "version 1" in page
    assert re.search(rf'<option value="{w.residents.pk}" selected>Residents</option>', page)

    rows = [
        {"access_type": "group", "user_group": w.residents.pk, "area": "", "schedule": ""},
        {"access_type": "area", "user_group": "", "area": w.unit1.pk, "schedule": gym.pk},
    ]
    response = staff_client.post(url, access_list_post(w.building, rows, initial=1))
    assert response.status_code == 302, page_text(response)[:3000]

    w.building.refresh_from_db()
    assert w.building.access_list == [
        {"accessType": "group", "userGroupId": str(w.residents.pk)},
        {"accessType": "area", "areaId": str(w.unit1.pk), "scheduleId": str(gym.pk)},
    ]
    assert w.building.access_list_version == 2
    updated = Event.objects.filter(event_name="area.updated", area_id=w.building.pk).get()
    assert updated.payload == {"changed": ["accessList"], "accessListVersion": 2}
    assert updated.last_modified_by.startswith("staff:")

    # The same list again: no new version, no event.
    response = staff_client.post(url, access_list_post(w.building, rows, initial=2))
    assert response.status_code == 302
    w.building.refresh_from_db()
    assert w.building.access_list_version == 2
    assert Event.objects.filter(event_name="area.updated", area_id=w.building.pk).count() == 1

    # A post without the formset (a rename from an older form) leaves the list alone.
    response = staff_client.post(url, {"display_name": "Tower block", "parent": ""})
    assert response.status_code == 302
    w.building.refresh_from_db()
    assert (w.building.display_name, w.building.access_list_version) == ("Tower block", 2)
    w.building.display_name = "Tower"

    # Deleting a row: the list shrinks, the version rises.
    rows[1]["DELETE"] = "on"
    staff_client.post(url, access_list_post(w.building, rows, initial=2))
    w.building.refresh_from_db()
    assert w.building.access_list == [{"accessType": "group", "userGroupId": str(w.residents.pk)}]
    assert w.building.access_list_version == 3


def test_access_list_rows_need_their_target_and_only_offer_the_property(staff_client, tower):
    w = tower
    other = d.property_create(display_name="Elsewhere")
    stranger_group = d.group_create(other, display_name="Strangers")
    url = f"/admin/areas/area/{w.building.pk}/change/"
    assert "Strangers" not in staff_client.get(url).content.decode()

    rows = [
        {"access_type": "group", "user_group": "", "area": "", "schedule": ""},
        {"access_type": "schedule", "user_group": "", "area": "", "schedule": ""},
        {"access_type": "group", "user_group": stranger_group.pk, "area": "", "schedule": ""},
    ]
    response = staff_client.post(url, access_list_post(w.building, rows, initial=1))
    assert response.status_code == 200
    text = page_text(response)
    assert "The access list has errors: see its rows below." in text
    assert "Choose the user group of this entry." in text
    assert "Choose the schedule of this entry." in text
    assert "Select a valid choice." in text
    w.building.refresh_from_db()
    assert w.building.access_list_version == 1
    assert not Event.objects.filter(event_name="area.updated").exists()


def test_area_page_shows_its_locks_derived_lines(staff_client, tower):
    w = tower
    page = page_text(staff_client.get(f"/admin/areas/area/{w.lobby.pk}/change/"))
    assert "Effective access at this area's locks" in page
    assert "Lobby door access lines version 1" in page
    assert "group Residents always — access list entry #0 of Tower" in page
    assert "group Lobby members always — own group of Lobby" in page
    assert "Unit 1 door" not in page


def test_grant_added_through_the_service_then_revoked_by_the_action(staff_client, tower):
    w = tower
    walker = d.user_create(display_name="Dog walker")
    until = timezone.now() + timedelta(days=7)
    response = staff_client.post(
        f"{GRANTS}add/",
        {
            "property": w.prop.pk,
            "user": walker.pk,
            "grant_lock": w.door1.pk,
            "grant_area": "",
            "access_level": "GUEST",
            "valid_from_0": "",
            "valid_from_1": "",
            "valid_until_0": until.strftime("%Y-%m-%d"),
            "valid_until_1": until.strftime("%H:%M:%S"),
        },
    )
    assert response.status_code == 302, page_text(response)[:3000]
    grant = AccessGrant.objects.get(user=walker)
    # Regression: the message read "GUEST grant to 01a240fb-… on area None".
    added = page_text(staff_client.get(response["Location"]))
    assert "Guest grant to Dog walker on Unit 1 door" in added and str(walker.pk) not in added
    assert (grant.lock, grant.access_level, grant.granted_by) == (w.door1, "GUEST", f"staff:{grant.granted_by[6:]}")
    assert Event.objects.filter(event_name="grant.created", user_id=walker.pk).exists()

    listing = staff_client.get(f"{GRANTS}?state=active").content.decode()
    assert "Dog walker" in listing and "Unit 1 door" in listing
    assert "Dog walker" not in staff_client.get(f"{GRANTS}?state=revoked").content.decode()

    selection = {"action": "revoke", "_selected_action": [grant.pk]}
    confirm = staff_client.post(GRANTS, selection)
    assert "GUEST grant: Dog walker" in confirm.content.decode() and "Revoke" in confirm.content.decode()
    assert AccessGrant.objects.get(pk=grant.pk).revoked_at is None  # only asked

    response = staff_client.post(GRANTS, {**selection, "apply": "Revoke"}, follow=True)
    assert "Revoked 1 grant(s)." in response.content.decode()
    grant.refresh_from_db()
    assert grant.revoked_at is not None and grant.revoked_by.startswith("staff:")
    assert Event.objects.filter(event_name="grant.revoked", user_id=walker.pk).count() == 1
    assert "Dog walker" in staff_client.get(f"{GRANTS}?state=revoked").content.decode()

    # Never deleted, never edited: the row stays, its page is read-only.
    assert staff_client.post(f"{GRANTS}{grant.pk}/delete/", {"post": "yes"}).status_code == 403
    page = staff_client.get(f"{GRANTS}{grant.pk}/change/").content.decode()
    assert 'name="_save"' not in page and "revoked" in page
    assert AccessGrant.objects.filter(pk=grant.pk).exists()


def test_grant_refusals_land_on_their_fields(staff_client, tower):
    w = tower
    data = {
        "property": w.prop.pk,
        "user": w.bob.pk,
        "grant_lock": w.door1.pk,
        "grant_area": "",
        "access_level": "GUEST",
        "valid_from_0": "",
        "valid_from_1": "",
        "valid_until_0": "",
        "valid_until_1": "",
    }
    response = staff_client.post(f"{GRANTS}add/", data)
    errors = re.search(r'field-valid_until">\s*<ul class="errorlist"[^>]*>(.*?)</ul>', response.content.decode(), re.S)
    assert errors and "Required for GUEST grants" in errors[1]

    response = staff_client.post(f"{GRANTS}add/", {**data, "access_level": "USER", "grant_area": w.lobby.pk})
    assert "Give exactly one of a lock and an area." in response.content.decode()
    assert not AccessGrant.objects.exists()


def test_block_added_and_removed_through_the_services(staff_client, tower):
    w = tower
    response = staff_client.post(f"{BLOCKS}add/", {"property": w.prop.pk, "user": w.alice.pk, "reason": "Lost keys"})
    assert response.status_code == 302, page_text(response)[:2000]
    block = AccessBlock.objects.get(user=w.alice)
    assert Event.objects.filter(event_name="block.created", user_id=w.alice.pk).exists()

    response = staff_client.post(f"{BLOCKS}{block.pk}/delete/", {"post": "yes"})
    assert response.status_code == 302
    assert not AccessBlock.objects.exists()
    assert Event.objects.filter(event_name="block.deleted", user_id=w.alice.pk).exists()


def test_lock_added_into_an_area_installed_and_uninstalled_through_the_services(staff_client, tower):
    w = tower
    response = staff_client.post(
        f"{LOCKS}add/", {"display_name": "Side gate", "property": "", "owner": "", "area": w.lobby.pk}
    )
    assert response.status_code == 302, page_text(response)[:2000]
    gate = Lock.objects.get(display_name="Side gate")
    assert (gate.property, gate.area) == (w.prop, w.lobby)
    names = list(Event.objects.filter(lock_id=gate.pk).order_by("id").values_list("event_name", flat=True))
    assert names == ["lock.provisioned", "lock.installed"]

    listing = page_text(staff_client.get(f"{LOCKS}?property__id__exact={w.prop.pk}"))
    assert re.search(r"Lobby door Tower Lobby \d+ \(v1\)", listing)  # lines (access-lines version, LockAccessVersion)

    response = staff_client.post(LOCKS, {"action": "uninstall", "_selected_action": [gate.pk]})
    assert "Off its door" in response.content.decode()
    staff_client.post(LOCKS, {"action": "uninstall", "_selected_action": [gate.pk], "mode": "area", "apply": "1"})
    gate.refresh_from_db()
    assert gate.area is None and gate.property == w.prop

    staff_client.post(LOCKS, {"action": "install", "_selected_action": [gate.pk], "area": w.unit2.pk, "apply": "1"})
    gate.refresh_from_db()
    assert gate.area == w.unit2
    assert Event.objects.filter(lock_id=gate.pk, event_name="lock.installed").count() == 2

    page = page_text(staff_client.get(f"{LOCKS}{w.lobby_door.pk}/change/"))
    assert "Explain access at this lock" in page and "access list entry #0 of Tower" in page
    assert staff_client.post(f"{LOCKS}{gate.pk}/delete/", {"post": "yes"}).status_code == 403


def explain(client, w, user, lock, at="2025-07-14T09:30"):
    params = {"property": w.prop.pk, "user": user.pk, "lock": lock.pk, "at": at, "explain": "Explain"}
    return client.get(EXPLAIN, params)


def test_explain_allows_a_resident_at_the_lobby_and_denies_another_unit(staff_client, tower):
    w = tower
    response = explain(staff_client, w, w.alice, w.lobby_door)
    assert response.status_code == 200
    text = page_text(response)
    assert re.search(
        r'<section class="module keyhouse-verdict keyhouse-allowed"[^>]*>\s*<h2>Allowed</h2>', response.content.decode()
    )
    assert "Allowed through 1 path(s)." in text
    assert "member of group 'Residents'" in text
    assert "access list entry #0 of area 'Tower'" in text
    assert "inherited by sub-area 'Lobby', where the lock is (a common area)" in text
    assert "Mon 14 Jul 2025 09:30 Europe/London (08:30 UTC)" in text
    # The person's stored access map: her own door and the lobby.
    effective = text.split("Effective locks of Alice", 1)[1]
    assert "2 locks" in effective and "Unit 1 door" in effective and "Lobby door" in effective
    assert "member of Residents, access list entry #0 of Tower" in effective

    response = explain(staff_client, w, w.alice, w.door2)
    text = page_text(response)
    assert "<h2>Denied</h2>" in response.content.decode()
    assert "Denied: no access-list entry or grant names this person or their groups for this lock." in text


def test_explain_page_form_and_staff_only(staff_client, tower):
    w = tower
    page = staff_client.get(EXPLAIN).content.decode()
    assert 'name="property"' in page and "Explain" in page and "Allowed" not in page
    page = staff_client.get(EXPLAIN, {"property": w.prop.pk, "lock": w.lobby_door.pk}).content.decode()
    assert re.search(rf'<optgroup label="Lobby">\s*<option value="{w.lobby_door.pk}" selected>Lobby door', page)
    assert "Local time in Europe/London." in page
    response = explain(staff_client, w, w.alice, w.lobby_door, at="2025-03-30T01:30")  # skipped by DST
    assert "couldn’t be interpreted in time zone Europe/London" in response.content.decode()

    assert "/admin/access/accessgrant/explain/" in staff_client.get("/admin/access/").content.decode()
    anonymous = Client()
    response = anonymous.get(EXPLAIN)
    assert response.status_code == 302 and "/admin/login/" in response["Location"]
    anonymous.force_login(UserFactory(is_staff=False))
    assert anonymous.get(EXPLAIN).status_code == 302


def test_with_a_single_property_the_explain_page_offers_its_locks_at_once(staff_client, tower):
    page = staff_client.get("/admin/access/accessgrant/explain/").content.decode()
    assert f'<option value="{tower.prop.pk}" selected>' in page
    assert "Lobby door" in page


@pytest.mark.parametrize("field", ["user", "lock"])
def test_explain_with_an_id_that_is_not_a_uuid_asks_again_instead_of_500(staff_client, tower, field):
    """Regression: user=not-a-uuid answered 500 (the autocomplete queried the UUID column)."""
    w = tower
    params = {"property": w.prop.pk, "user": w.alice.pk, "lock": w.lobby_door.pk, "at": "2025-07-14T09:30"}
    response = staff_client.get(EXPLAIN, {**params, field: "not-a-uuid", "explain": "Explain"})
    assert response.status_code == 200
    page = response.content.decode()
    assert "This field is required." in page and "<h2>Allowed</h2>" not in page
