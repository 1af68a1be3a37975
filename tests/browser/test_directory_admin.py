"""A staff member builds a property's area tree in a real browser: a property, an area, a
sub-area picked through the parent autocomplete, one more level through the tree's own
"+ sub-area" link, and then sees the tree indented on the property's page."""

import re
from urllib.parse import urlsplit

import pytest

from apps.areas.models import Area
from apps.events.models import Event
from apps.properties.models import Property
from tests.browser.test_admin_and_docs import admin_login, failed_responses, staff_user  # noqa: F401 (fixtures)

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def save(page):
    with page.expect_navigation() as navigation:
        page.click("input[name=_save]")
    assert navigation.value.status == 200, f"saving answered {navigation.value.status}: {page.title()!r}"
    errors = page.locator(".errornote, .errorlist")
    assert errors.count() == 0, errors.first.inner_text()


def test_staff_builds_an_area_tree_and_sees_it(page, live_server, staff_user, failed_responses, screenshot_dir):  # noqa: F811
    admin_login(page, live_server)

    # A property, through the add form (address in parts, time zone from the IANA list).
    page.goto(f"{live_server.url}/admin/properties/property/add/")
    page.fill("input[name=display_name]", "Harbour House")
    page.select_option("select[name=time_zone]", "Europe/London")
    page.fill("input[name=line1]", "1 Harbour Street")
    page.fill("input[name=city]", "Portsmouth")
    page.fill("input[name=postal_code]", "PO1 1AA")
    page.fill("input[name=country]", "GB")
    save(page)
    prop = Property.objects.get(display_name="Harbour House")
    property_url = f"{live_server.url}/admin/properties/property/{prop.pk}/change/"

    # An area, from the property page's "Add area" link (the property comes preselected).
    page.goto(property_url)
    assert page.locator("#area-tree").inner_text().count("No areas yet") == 1
    page.click("#area-tree a.addlink")
    assert page.locator("select[name=property] option:checked").inner_text() == "Harbour House"
    page.fill("input[name=display_name]", "Building A")
    page.select_option("select[name=area_type]", "common")
    save(page)

    # A sub-area from the plain add form, its parent picked with the autocomplete.
    page.goto(f"{live_server.url}/admin/areas/area/add/")
    page.select_option("select[name=property]", label="Harbour House")
    page.fill("input[name=display_name]", "Floor 1")
    page.select_option("select[name=area_type]", "common")
    page.click(".field-parent .select2-selection")
    page.fill(".select2-search__field", "build")
    page.click(".select2-results__option >> text=Building A · Harbour House")
    save(page)

    # One level deeper, through the tree's "+ sub-area" link on the Floor 1 row.
    page.goto(property_url)
    floor_row = page.locator(".keyhouse-tree-row", has_text="Floor 1")
    floor_row.hover()
    floor_row.locator("a.keyhouse-tree-add").click()
    page.wait_for_load_state("load")
    assert "Floor 1 · Harbour House" in page.locator(".field-parent").inner_text()
    page.fill("input[name=display_name]", "Unit 101")
    page.select_option("select[name=area_type]", "resident")
    save(page)

    # A second top-level area, so the tree has siblings at the root.
    page.goto(property_url)
    page.click("#area-tree a.addlink")
    page.fill("input[name=display_name]", "Garage")
    page.select_option("select[name=area_type]", "common")
    save(page)

    page.goto(property_url)
    tree = page.locator("#area-tree")
    rows = tree.locator(".keyhouse-tree-row")
    assert [
        (row.get_attribute("data-depth"), row.locator(".keyhouse-tree-node a").inner_text()) for row in rows.all()
    ] == [
        ("0", "Building A"),
        ("1", "Floor 1"),
        ("2", "Unit 101"),
        ("0", "Garage"),
    ]
    x = {
        name: tree.get_by_role("link", name=name, exact=True).bounding_box()["x"]
        for name in ("Building A", "Floor 1", "Unit 101", "Garage")
    }
    assert x["Building A"] == x["Garage"] < x["Floor 1"] < x["Unit 101"]  # indented under its parent
    assert "4 areas" in tree.inner_text()

    # Each row links to the area's admin page.
    tree.get_by_role("link", name="Unit 101", exact=True).click()
    page.wait_for_load_state("load")
    unit = Area.objects.get(display_name="Unit 101")
    assert urlsplit(page.url).path == f"/admin/areas/area/{unit.pk}/change/"
    assert re.search(r"Floor 1\s*‹\s*Building A", page.locator(".field-containing_areas").inner_text())

    # The admin wrote through the services: events name the staff member.
    actor = f"staff:{staff_user.pk}"
    assert Event.objects.filter(event_name="property.created", last_modified_by=actor).count() == 1
    assert Event.objects.filter(event_name="area.created", last_modified_by=actor).count() == 4
    assert unit.ancestor_ids == [str(unit.parent_id), str(unit.parent.parent_id)]
    assert failed_responses == []

    page.goto(property_url)
    page.locator("#area-tree").scroll_into_view_if_needed()
    page.screenshot(path=str(screenshot_dir / "property_tree.png"), full_page=True)
