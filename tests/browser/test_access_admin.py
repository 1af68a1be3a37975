"""The access model's admin in a real browser: "Explain access" (pick a person, a lock and a
time: Allowed, through the group and the area), the schedule's weekly grid (drag and click
cells, save, the stored windows are what the grid showed; windows it cannot draw survive),
and the access-list editor on the area page."""

# ruff: noqa: F811 (pytest fixtures imported from the other browser tests, then requested by name)

import json
import re

import pytest

from apps.access import services as access_services
from apps.access.models import Schedule
from apps.areas.models import Area
from apps.core.actors import SYSTEM
from tests.browser.test_admin_and_docs import admin_login, failed_responses, staff_user  # noqa: F401 (fixtures)
from tests.browser.test_directory_admin import save
from tests.factories import access as a
from tests.factories import directory as d

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def tower(transactional_db):
    """Tower (resident) holding Unit 1 and the Lobby (common); Tower's access list names the
    Residents group; Alice is a resident of Unit 1. Derived access is processed on commit."""
    prop = d.property_create(display_name="Tower", time_zone="Europe/London")
    residents = d.property_group(prop, "resident")
    building = d.area_create(
        prop, display_name="Tower", access_list=[{"accessType": "group", "userGroupId": str(residents.pk)}]
    )
    unit1 = d.area_create(prop, display_name="Unit 1", parent=building)
    lobby = d.area_create(prop, display_name="Lobby", area_type="common", parent=building)
    alice = d.user_create(display_name="Alice Archer", email="alice@example.test")
    d.member_add(residents, alice)
    d.member_add(unit1.area_user_group, alice)
    a.lock_in(unit1, "Unit 1 door")
    a.lock_in(lobby, "Lobby door")
    a.process_events()  # eager Celery has run them on commit already; this is a no-op then
    return prop


def cell(page, day: int, row: int):
    return page.locator(f'table.keyhouse-schedule-grid td[data-day="{day}"][data-row="{row}"]')


def centre(locator) -> tuple[float, float]:
    box = locator.bounding_box()
    return box["x"] + box["width"] / 2, box["y"] + box["height"] / 2


def test_staff_explains_why_a_resident_may_open_the_lobby(
    page, live_server, staff_user, failed_responses, screenshot_dir, tower
):
    admin_login(page, live_server)
    page.goto(f"{live_server.url}/admin/access/")
    page.click("#access-tools a:text('Explain access')")
    page.wait_for_load_state("load")

    # Choosing the property reloads the page with its locks (by area) and its time zone.
    with page.expect_navigation():
        page.select_option("select[name=property]", label="Tower")
    assert "Local time in Europe/London." in page.locator(".field-at").inner_text()
    page.click(".field-user .select2-selection")
    page.fill(".select2-search__field", "alice")
    page.click(".select2-results__option >> text=Alice Archer")
    page.select_option("select[name=lock]", label="Lobby door")
    page.fill("input[name=at]", "2025-07-14T09:30")
    with page.expect_navigation():
        page.click("input[name=explain]")

    result = page.locator("#explain-result")
    assert result.locator("h2").inner_text() == "Allowed"
    assert "Mon 14 Jul 2025 09:30 Europe/London (08:30 UTC)" in result.inner_text()
    path = result.locator("li.keyhouse-path-holds").first
    steps = path.locator("ol.keyhouse-steps > li").all_inner_texts()
    assert steps[0] == "member of group 'Residents'"
    assert steps[1] == "access list entry #0 of area 'Tower'"
    assert "sub-area 'Lobby'" in steps[2]
    effective = page.locator("#effective-locks")
    assert effective.locator("tr.keyhouse-chosen td").first.inner_text() == "Lobby door"
    assert sorted(effective.locator("tbody tr td:first-child").all_inner_texts()) == ["Lobby door", "Unit 1 door"]
    assert failed_responses == []
    page.screenshot(path=str(screenshot_dir / "access_explain.png"), full_page=True)


def test_staff_draws_a_schedule_on_the_weekly_grid(
    page, live_server, staff_user, failed_responses, screenshot_dir, tower
):
    admin_login(page, live_server)
    page.goto(f"{live_server.url}/admin/access/schedule/add/")
    page.select_option("select[name=property]", label="Tower (Europe/London)")  # schedule pages name the zone
    page.fill("input[name=display_name]", "Office hours")
    assert page.locator("table.keyhouse-schedule-grid tbody tr").count() == 48  # 30-minute cells

    # Drag from Mon 09:00 to Fri 11:30 (a rectangle: Mon–Fri 09:00–12:00), then click Sat 10:00.
    page.mouse.move(*centre(cell(page, 0, 18)))
    page.mouse.down()
    page.mouse.move(*centre(cell(page, 2, 20)), steps=4)
    page.mouse.move(*centre(cell(page, 4, 23)), steps=4)
    page.mouse.up()
    cell(page, 5, 20).click()
    assert page.locator("td.keyhouse-on").count() == 5 * 6 + 1
    summary = page.locator(".keyhouse-schedule-summary").inner_text()
    assert summary == "Mon–Fri 09:00–12:00; Sat 10:00–10:30"
    expected = [
        {"days": ["mon", "tue", "wed", "thu", "fri"], "start": "09:00", "stop": "12:00"},
        {"days": ["sat"], "start": "10:00", "stop": "10:30"},
    ]
    assert json.loads(page.locator("textarea[name=windows]").input_value()) == expected
    page.screenshot(path=str(screenshot_dir / "access_schedule_add.png"), full_page=True)
    save(page)
    schedule = Schedule.objects.get(display_name="Office hours")
    assert schedule.windows == expected

    # A schedule with windows the grid cannot draw: they show hatched and are kept verbatim.
    late = access_services.schedule_create(
        prop=tower,
        display_name="Late opening",
        windows=[
            {"days": ["sat"], "start": "22:00", "stop": "02:00"},
            {"days": ["sun"], "start": "08:00:30", "stop": "09:00"},
            {"days": ["mon"], "start": "07:00", "stop": "08:00"},
        ],
        actor=SYSTEM,
    )
    page.goto(f"{live_server.url}/admin/access/schedule/{late.pk}/change/")
    notice = page.locator(".keyhouse-schedule-notice").inner_text()
    assert "2 windows the grid cannot draw" in notice and "Sat 22:00–02:00 (+1 day)" in notice
    assert cell(page, 5, 44).get_attribute("class").split() == ["keyhouse-kept"]  # Sat 22:00
    assert "keyhouse-kept" in cell(page, 6, 3).get_attribute("class")  # Sun 01:30, after midnight
    assert page.locator("details.keyhouse-windows-json").get_attribute("open") is not None
    cell(page, 0, 15).click()  # Mon 07:30 off: 07:00–07:30 remains
    page.screenshot(path=str(screenshot_dir / "access_schedule_kept.png"), full_page=True)
    save(page)
    late.refresh_from_db()
    assert late.windows == [
        {"days": ["mon"], "start": "07:00", "stop": "07:30"},
        {"days": ["sat"], "start": "22:00", "stop": "02:00"},
        {"days": ["sun"], "start": "08:00:30", "stop": "09:00"},
    ]

    # A refusal from the service names the window, on the form.
    page.goto(f"{live_server.url}/admin/access/schedule/{late.pk}/change/")
    page.locator("details.keyhouse-windows-json").evaluate("el => el.open = true")
    page.fill("textarea[name=windows]", '[{"days": ["mon"], "start": "07:00", "stop": "07:00"}]')
    page.click("input[name=_save]")
    page.wait_for_load_state("load")
    assert "windows[0].stop: Must differ from start" in page.locator(".field-windows .errorlist").inner_text()
    assert failed_responses == []


def _process_waiting_events() -> None:
    """What a worker does after commit. Forced, so an event a broker delivery already claimed
    (and would retry later) runs now; handlers are idempotent."""
    from apps.events.models import Event
    from apps.events.services import event_process

    for event_id in Event.objects.unprocessed().order_by("id").values_list("id", flat=True):
        event_process(event_id=event_id, force=True)


def test_staff_adds_an_access_list_entry_on_the_area_page(
    page, live_server, staff_user, failed_responses, screenshot_dir, tower
):
    building = Area.objects.get(display_name="Tower")
    admin_login(page, live_server)
    page.goto(f"{live_server.url}/admin/areas/area/{building.pk}/change/")
    editor = page.locator("#access-list")
    assert re.search(r"version 1", editor.locator("h2").inner_text())
    rows = editor.locator("tr.keyhouse-access-row")
    assert rows.count() == 2  # the Residents entry and one empty row

    page.click("[data-add-access-row]")
    assert rows.count() == 3
    new_row = rows.nth(2)
    assert new_row.locator(".keyhouse-access-number").inner_text() == "#2"
    new_row.locator("select[name$='-access_type']").select_option("area")
    assert new_row.locator("select[name$='-user_group']").is_hidden()
    new_row.locator("select[name$='-area']").select_option(label="\u2003Unit 1")
    assert "required" not in new_row.locator(".keyhouse-schedule-hint").inner_text()
    lobby_lines = page.locator(".keyhouse-lock-lines")
    assert lobby_lines.count() == 0  # no lock in Tower itself
    page.screenshot(path=str(screenshot_dir / "access_area_editor.png"), full_page=True)
    save(page)

    building.refresh_from_db()
    unit1 = Area.objects.get(display_name="Unit 1")
    assert building.access_list[1:] == [{"accessType": "area", "areaId": str(unit1.pk)}]
    assert building.access_list_version == 2
    _process_waiting_events()  # eager Celery did it already; with a broker (CI phase 2), do it here

    page.goto(f"{live_server.url}/admin/areas/area/{Area.objects.get(display_name='Lobby').pk}/change/")
    lines = page.locator(".keyhouse-lock-lines")
    assert "Lobby door" in lines.locator("h3").inner_text()
    assert "access list entry #1 of Tower" in lines.inner_text()
    page.screenshot(path=str(screenshot_dir / "access_area_lines.png"), full_page=True)
    assert failed_responses == []
