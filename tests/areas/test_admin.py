"""Staff admin for areas: create, rename and move through the services (events appended),
the "Move selected areas…" action, filters, and refusals shown as errors."""

import re

import pytest
from django.contrib.admin.models import LogEntry

from apps.access.services import area_create, property_create
from apps.areas.models import Area
from apps.core.actors import SYSTEM
from apps.events.models import Event

pytestmark = pytest.mark.django_db

ADDRESS = {"line1": "1 Harbour Street", "city": "Portsmouth", "country": "GB", "postalCode": "PO1 1AA"}
CHANGELIST = "/admin/areas/area/"


def make_property(name="Harbour House"):
    return property_create(display_name=name, address=ADDRESS, actor=SYSTEM)


def make_area(prop, name, parent=None, area_type="common"):
    return area_create(
        prop=prop, display_name=name, area_type=area_type, parent_id=parent.pk if parent else None, actor=SYSTEM
    )


@pytest.fixture
def prop():
    return make_property()


def listed(page: str) -> list[str]:
    return re.findall(r'<th class="field-display_name"><a href="[^"]+">([^<]+)</a>', page)


def test_admin_creates_an_area_and_a_sub_area_through_the_service(staff_client, prop):
    response = staff_client.post(
        f"{CHANGELIST}add/", {"property": prop.pk, "display_name": "Floor 1", "area_type": "common", "parent": ""}
    )
    assert response.status_code == 302, response.content.decode()[:3000]
    floor = Area.objects.get(display_name="Floor 1")
    response = staff_client.post(
        f"{CHANGELIST}add/",
        {"property": prop.pk, "display_name": "Unit 101", "area_type": "resident", "parent": floor.pk},
    )
    assert response.status_code == 302, response.content.decode()[:3000]

    unit = Area.objects.get(display_name="Unit 101")
    assert unit.parent == floor and unit.ancestor_ids == [str(floor.pk)] and unit.depth == 1
    assert unit.area_user_group.group_source == "area"  # made with it, by the service
    assert unit.last_modified_by.startswith("staff:")
    assert Event.objects.filter(event_name="area.created", area_id=unit.pk).exists()
    assert Event.objects.filter(event_name="group.created", area_id=unit.pk).exists()
    assert LogEntry.objects.filter(object_id=str(unit.pk)).exists()


def test_add_form_takes_property_and_parent_from_the_query_string(staff_client, prop):
    floor = make_area(prop, "Floor 1")
    page = staff_client.get(f"{CHANGELIST}add/?property={prop.pk}&parent={floor.pk}").content.decode()
    assert re.search(rf'<option value="{prop.pk}" selected>', page)
    assert re.search(rf'<option value="{floor.pk}" selected>Floor 1 · Harbour House</option>', page)


def test_parent_from_another_property_is_a_form_error(staff_client, prop):
    elsewhere = make_area(make_property("Elsewhere"), "Lobby")
    response = staff_client.post(
        f"{CHANGELIST}add/", {"property": prop.pk, "display_name": "X", "area_type": "common", "parent": elsewhere.pk}
    )
    assert response.status_code == 200
    assert "is in Elsewhere, not in Harbour House" in response.content.decode()
    assert not Area.objects.filter(display_name="X").exists()


def test_change_form_renames_and_moves(staff_client, prop):
    building = make_area(prop, "Building")
    floor = make_area(prop, "Floor 1")
    url = f"{CHANGELIST}{floor.pk}/change/"

    response = staff_client.post(url, {"display_name": "First floor", "parent": building.pk})
    assert response.status_code == 302, response.content.decode()[:3000]

    floor.refresh_from_db()
    assert floor.display_name == "First floor" and floor.parent == building and floor.depth == 1
    assert Event.objects.get(event_name="area.updated", area_id=floor.pk).payload["changed"] == [
        "displayName",
        "parentAreaId",
    ]
    moved = Event.objects.get(event_name="area.moved", area_id=floor.pk)
    assert moved.payload["to"] == str(building.pk) and moved.last_modified_by.startswith("staff:")

    page = staff_client.get(url).content.decode()
    assert f'href="/admin/areas/area/{building.pk}/change/"' in page  # containing areas, linked


def test_a_move_into_its_own_subtree_is_shown_on_the_form(staff_client, prop):
    building = make_area(prop, "Building")
    floor = make_area(prop, "Floor 1", parent=building)
    log_entries = LogEntry.objects.count()

    response = staff_client.post(
        f"{CHANGELIST}{building.pk}/change/", {"display_name": "Renamed too", "parent": floor.pk}
    )

    assert response.status_code == 200
    page = response.content.decode()
    # Regression: the message named both areas by UUID.
    assert "Area &#x27;Renamed too&#x27; cannot move under &#x27;Floor 1&#x27;, which is inside it" in page
    assert str(floor.pk) not in page.split("errorlist", 1)[1].split("</ul>", 1)[0]
    assert re.search(r'class="[^"]*errors[^"]*field-parent', page)  # on the parent field
    building.refresh_from_db()
    assert building.display_name == "Building" and building.parent is None  # rolled back as a whole
    assert not Event.objects.filter(event_name__in=["area.moved", "area.updated"]).exists()
    assert LogEntry.objects.count() == log_entries


def test_move_action_asks_for_a_parent_then_moves(staff_client, prop):
    building = make_area(prop, "Building")
    a, b = make_area(prop, "Unit A"), make_area(prop, "Unit B")
    selection = {"action": "move", "_selected_action": [a.pk, b.pk]}

    page = staff_client.post(CHANGELIST, selection).content.decode()
    assert "Move areas of Harbour House" in page
    assert f'<option value="{building.pk}">Building</option>' in page
    assert "Unit A" in page and 'name="apply"' in page

    response = staff_client.post(CHANGELIST, {**selection, "parent": building.pk, "apply": "Move"}, follow=True)
    assert "Moved 2 area(s)." in response.content.decode()
    assert set(Area.objects.filter(parent=building).values_list("display_name", flat=True)) == {"Unit A", "Unit B"}
    assert Event.objects.filter(event_name="area.moved").count() == 2

    response = staff_client.post(CHANGELIST, {**selection, "parent": "", "apply": "Move"}, follow=True)
    assert Area.objects.filter(parent__isnull=True).count() == 3


def test_move_action_reports_a_cycle_and_moves_the_rest(staff_client, prop):
    building = make_area(prop, "Building")
    floor = make_area(prop, "Floor", parent=building)
    loose = make_area(prop, "Loose")
    selection = {"action": "move", "_selected_action": [building.pk, loose.pk], "parent": floor.pk, "apply": "Move"}

    page = staff_client.post(CHANGELIST, selection, follow=True).content.decode()

    assert "Building: Area &#x27;Building&#x27; cannot move under &#x27;Floor&#x27;" in page
    assert "Moved 1 area(s)." in page
    building.refresh_from_db()
    loose.refresh_from_db()
    assert building.parent is None and loose.parent == floor
    assert Event.objects.filter(event_name="area.moved").count() == 1


def test_move_action_needs_one_property(staff_client, prop):
    a, b = make_area(prop, "A"), make_area(make_property("Other"), "B")
    response = staff_client.post(CHANGELIST, {"action": "move", "_selected_action": [a.pk, b.pk]}, follow=True)
    assert "Select areas of one property" in response.content.decode()


def test_filters_by_property_type_and_level(staff_client, prop):
    other = make_property("Other")
    building = make_area(prop, "Building")
    make_area(prop, "Unit 1", parent=building, area_type="resident")
    make_area(other, "Gym")

    assert listed(staff_client.get(f"{CHANGELIST}?property__id__exact={prop.pk}").content.decode()) == [
        "Building",
        "Unit 1",
    ]
    assert listed(staff_client.get(f"{CHANGELIST}?area_type__exact=resident").content.decode()) == ["Unit 1"]
    assert listed(staff_client.get(f"{CHANGELIST}?level=top").content.decode()) == ["Building", "Gym"]
    assert listed(staff_client.get(f"{CHANGELIST}?level=nested").content.decode()) == ["Unit 1"]
    assert listed(staff_client.get(f"{CHANGELIST}?q=uni").content.decode()) == ["Unit 1"]


def test_parent_autocomplete_names_the_property(staff_client, prop):
    make_area(prop, "Floor 1")
    make_area(make_property("Other"), "Floor 1")
    response = staff_client.get(
        "/admin/autocomplete/", {"app_label": "areas", "model_name": "area", "field_name": "parent", "term": "floor"}
    )
    assert sorted(r["text"] for r in response.json()["results"]) == ["Floor 1 · Harbour House", "Floor 1 · Other"]


def test_delete_with_sub_areas_is_refused_with_a_message(staff_client, prop):
    building = make_area(prop, "Building")
    floor = make_area(prop, "Floor", parent=building)

    response = staff_client.post(f"{CHANGELIST}{building.pk}/delete/", {"post": "yes"}, follow=True)
    page = response.content.decode()
    # Regression: the message named the area and its sub-areas by UUID and API field.
    assert "Area &#x27;Building&#x27; cannot be deleted: it has sub-areas: &#x27;Floor&#x27;." in page
    message = page.split('class="messagelist"', 1)[1].split("</ul>", 1)[0]
    assert str(floor.pk) not in message and "subAreaIds" not in message
    building.refresh_from_db()
    assert building.type_state == "active"

    response = staff_client.post(f"{CHANGELIST}{floor.pk}/delete/", {"post": "yes"})
    assert response.status_code == 302
    floor.refresh_from_db()
    assert floor.type_state == "deleted"
    assert Event.objects.filter(event_name="area.deleted", area_id=floor.pk).exists()
    assert listed(staff_client.get(CHANGELIST).content.decode()) == ["Building"]


def test_the_add_form_explains_the_area_types(staff_client):
    """Issue 16: "area types are not explained"; the form now says what each one means."""
    page = staff_client.get("/admin/areas/area/add/").content.decode()
    assert "Resident: a home" in page and "Common: a shared place" in page and "Staff: a staff-only room" in page
