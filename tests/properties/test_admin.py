"""Staff admin for properties: writes go through the services (events appended), the change
page shows the area tree, deletes that the service refuses are reported, not crashed on."""

import re

import pytest
from django.contrib.admin.models import LogEntry

from apps.access.services import area_create, property_create
from apps.core.actors import SYSTEM
from apps.events.models import Event
from apps.properties.models import Property
from tests.factories.accounts import UserFactory

pytestmark = pytest.mark.django_db

ADDRESS = {"line1": "1 Harbour Street", "city": "Portsmouth", "country": "GB", "postalCode": "PO1 1AA"}
FORM_ADDRESS = {"line1": "1 Harbour Street", "city": "Portsmouth", "country": "GB", "postal_code": "PO1 1AA"}
CHANGELIST = "/admin/properties/property/"


def make_property(name="Harbour House", **kwargs):
    return property_create(display_name=name, address=ADDRESS, actor=SYSTEM, **kwargs)


def make_area(prop, name, parent=None, area_type="resident"):
    return area_create(
        prop=prop, display_name=name, area_type=area_type, parent_id=parent.pk if parent else None, actor=SYSTEM
    )


def property_form(**overrides) -> dict:
    return {"display_name": "Harbour House", "time_zone": "Europe/London", **FORM_ADDRESS, **overrides}


def test_admin_creates_a_property_through_the_service(staff_client, staff_user):
    owner = UserFactory()
    response = staff_client.post(
        f"{CHANGELIST}add/", property_form(owner=owner.pk, access_managers=[owner.pk], line2="Flat 2")
    )
    assert response.status_code == 302, response.content.decode()[:3000]

    prop = Property.objects.get(display_name="Harbour House")
    assert prop.address == {**ADDRESS, "line2": "Flat 2"}
    assert prop.time_zone == "Europe/London"
    assert prop.owner == owner and list(prop.access_managers.all()) == [owner]
    assert prop.last_modified_by == f"staff:{staff_user.pk}"
    created = Event.objects.get(event_name="property.created", property_id=prop.pk)
    assert created.last_modified_by == f"staff:{staff_user.pk}"
    assert Event.objects.filter(event_name="group.created", property_id=prop.pk).count() == 2  # Residents, Staff
    assert response["Location"] == CHANGELIST  # the admin's redirect points at the service's row
    assert LogEntry.objects.get().object_id == str(prop.pk)


def test_invalid_address_is_a_form_error_and_writes_nothing(staff_client):
    response = staff_client.post(f"{CHANGELIST}add/", property_form(city=""))
    assert response.status_code == 200
    assert "This field is required." in response.content.decode()
    assert not Property.objects.exists() and not Event.objects.exists()


def test_admin_updates_a_property_and_a_no_op_save_emits_nothing(staff_client):
    prop = make_property()
    url = f"{CHANGELIST}{prop.pk}/change/"
    page = staff_client.get(url).content.decode()
    assert 'value="Portsmouth"' in page  # the address parts are filled from the stored Address

    response = staff_client.post(url, property_form(time_zone="UTC"))
    assert response.status_code == 302, response.content.decode()[:3000]
    assert Event.objects.filter(event_name="property.updated").count() == 0  # nothing changed

    response = staff_client.post(url, property_form(display_name="Harbour Court", city="Southsea", time_zone="UTC"))
    assert response.status_code == 302
    prop.refresh_from_db()
    assert prop.display_name == "Harbour Court" and prop.address["city"] == "Southsea"
    updated = Event.objects.get(event_name="property.updated")
    assert set(updated.payload["changed"]) == {"displayName", "address"}
    assert updated.last_modified_by.startswith("staff:")


def test_an_owned_property_cannot_be_left_without_owner(staff_client):
    owner = UserFactory()
    prop = make_property(owner_id=owner.pk)
    response = staff_client.post(f"{CHANGELIST}{prop.pk}/change/", property_form(owner=""))
    assert response.status_code == 200
    assert "choose the new owner" in response.content.decode()


def tree_rows(page: str) -> list[tuple[int, str]]:
    """(depth, name) of each row of the area tree, in page order."""
    rows = re.findall(
        r'<li class="keyhouse-tree-row[^"]*"[^>]*data-depth="(\d+)">.*?<a href="[^"]+">([^<]+)</a>', page, re.S
    )
    return [(int(depth), name) for depth, name in rows]


def test_change_page_shows_the_area_tree_indented(staff_client):
    prop = make_property()
    other = make_property("Elsewhere")
    building = make_area(prop, "Building B", area_type="common")
    floor2 = make_area(prop, "Floor 2", parent=building, area_type="common")
    make_area(prop, "Unit 201", parent=floor2)
    make_area(prop, "Floor 1", parent=building, area_type="common")
    make_area(prop, "Garage", area_type="common")
    make_area(other, "Not here")

    page = staff_client.get(f"{CHANGELIST}{prop.pk}/change/").content.decode()

    assert tree_rows(page) == [
        (0, "Building B"),
        (1, "Floor 1"),
        (1, "Floor 2"),
        (2, "Unit 201"),
        (0, "Garage"),
    ]
    assert "5 areas" in page
    assert f'href="/admin/areas/area/{floor2.pk}/change/"' in page
    assert f"/admin/areas/area/add/?property={prop.pk}&amp;parent={floor2.pk}" in page


def test_changelist_shows_live_counts_at_a_fixed_query_count(staff_client, django_assert_max_num_queries):
    prop = make_property()
    make_area(prop, "Lobby", area_type="common")

    def row_cells(page: str) -> list[str]:
        row = re.search(r"<tr>.*?Harbour House.*?</tr>", page, re.S).group(0)
        return re.findall(r'<td class="field-(?:area_count|group_count)">(\d+)</td>', row)

    with django_assert_max_num_queries(12) as few:
        page = staff_client.get(CHANGELIST).content.decode()
    assert row_cells(page) == ["1", "3"]  # one area; Residents, Staff and the area's group

    for n in range(10):
        make_area(make_property(f"P{n}"), f"A{n}")
    with django_assert_max_num_queries(len(few.captured_queries)):
        staff_client.get(CHANGELIST)


def test_delete_refused_by_the_service_is_shown_not_crashed(staff_client):
    prop = make_property()
    make_area(prop, "Lobby", area_type="common")

    confirm = staff_client.get(f"{CHANGELIST}{prop.pk}/delete/")
    assert confirm.status_code == 200 and "Are you sure" in confirm.content.decode()

    response = staff_client.post(f"{CHANGELIST}{prop.pk}/delete/", {"post": "yes"}, follow=True)
    assert response.redirect_chain[0][0] == f"{CHANGELIST}{prop.pk}/change/"
    assert "still has areas" in response.content.decode()
    prop.refresh_from_db()
    assert prop.type_state == "active"
    assert not Event.objects.filter(event_name="property.deleted").exists()
    assert not LogEntry.objects.exists()  # the admin's log entry rolled back with the refusal


def test_delete_goes_through_the_service(staff_client):
    prop = make_property()
    response = staff_client.post(f"{CHANGELIST}{prop.pk}/delete/", {"post": "yes"})
    assert response.status_code == 302
    prop.refresh_from_db()
    assert prop.type_state == "deleted"  # soft delete: the row stays for the event log
    assert Event.objects.filter(event_name="property.deleted", property_id=prop.pk).exists()
    assert Event.objects.filter(event_name="group.deleted", property_id=prop.pk).count() == 2
    assert staff_client.get(f"{CHANGELIST}{prop.pk}/change/").status_code == 302  # gone from the admin


def test_bulk_delete_deletes_what_it_may_and_reports_the_rest(staff_client):
    empty, busy = make_property("Empty"), make_property("Busy")
    make_area(busy, "Lobby", area_type="common")
    selection = {"action": "delete_selected", "_selected_action": [empty.pk, busy.pk]}

    confirm = staff_client.post(CHANGELIST, selection)
    assert confirm.status_code == 200 and "Are you sure" in confirm.content.decode()

    response = staff_client.post(CHANGELIST, {**selection, "post": "yes"}, follow=True)
    page = response.content.decode()
    assert "Deleted 1 property." in page
    assert "Busy: property" in page and "still has areas" in page
    assert Property.objects.get(pk=empty.pk).type_state == "deleted"
    assert Property.objects.get(pk=busy.pk).type_state == "active"


def test_dashboard_counts_live_properties_and_areas(staff_client):
    prop = make_property()
    make_area(prop, "Lobby", area_type="common")
    make_area(prop, "Gym", area_type="common")
    deleted = make_property("Gone")
    staff_client.post(f"{CHANGELIST}{deleted.pk}/delete/", {"post": "yes"})

    page = staff_client.get("/admin/").content.decode()
    figures = dict(re.findall(r'<th scope="row"><a href="[^"]+">([^<]+)</a></th><td>(\d+)</td>', page))
    assert figures["Properties"] == "1" and figures["Areas"] == "2"
