"""A property manager's new pages in a real browser (docs/ADMIN.md): the person page (groups
added and removed, what they can open and why), "who can open this door", the dashboard's
attention list after a revocation no lock has acknowledged, and a grant typed in the
property's time zone. Screenshots go to /tmp/shots-i16/ (not the repository)."""

# ruff: noqa: F811 (pytest fixtures imported from the other browser tests, then requested by name)

from datetime import UTC, datetime
from pathlib import Path

import pytest

from apps.access import services as access_services
from apps.access.models import AccessGrant
from apps.accounts.models import PermissionGrant
from apps.core.actors import SYSTEM
from apps.integrations.models import IntegrationAccount
from tests.browser.test_admin_and_docs import failed_responses  # noqa: F401 (fixture)
from tests.factories import access as a
from tests.factories import directory as d
from tests.factories.integrations import lockt_account
from tests.locks.conftest import Phone, settle

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

EMAIL = "lakeshore-manager@example.test"
PASSWORD = "lakeshore-manager-password-4k8"
SHOTS = Path("/tmp/shots-i16")


@pytest.fixture
def lakeshore(transactional_db):
    """Lakeshore Lofts (Chicago): the Lobby's access list names Residents; Alice is a resident
    with a phone; Bob holds a guest pass on the lobby door; Harbour House is another manager's."""
    prop = d.property_create(display_name="Lakeshore Lofts", time_zone="America/Chicago")
    residents = d.property_group(prop)
    lobby = d.area_create(
        prop,
        display_name="Lakeshore Lobby",
        area_type="common",
        access_list=[{"accessType": "group", "userGroupId": str(residents.pk)}],
    )
    door = a.lock_in(lobby, "Lobby front door")
    alice = d.user_create(email="alice@example.test", display_name="Alice Archer")
    bob = d.user_create(email="bob@example.test", display_name="Bob Baker")
    d.member_add(residents, alice)
    Phone.provision(alice)
    access_services.grant_create(
        prop=prop,
        user=bob,
        access_level="GUEST",
        lock=door,
        actor=SYSTEM,
        valid_until=datetime(2040, 1, 1, tzinfo=UTC),
    )
    harbour = d.property_create(display_name="Harbour House")
    a.lock_in(d.area_create(harbour, display_name="Harbour Lobby", area_type="common"), "Harbour door")
    settle()
    manager = d.user_create(email=EMAIL, display_name="Mara Manager", password=PASSWORD)
    PermissionGrant.objects.create(user=manager, permission="owner", property_id=prop.pk)
    SHOTS.mkdir(parents=True, exist_ok=True)
    return prop, residents, door, alice, bob


def sign_in(page, live_server):
    page.set_viewport_size({"width": 1366, "height": 900})
    page.goto(f"{live_server.url}/admin/login/")
    page.fill("input[name=username]", EMAIL)
    page.fill("input[name=password]", PASSWORD)
    page.click("input[type=submit]")
    page.wait_for_load_state("load")
    assert "/admin/login/" not in page.url


def test_person_page_groups_and_what_they_can_open(page, live_server, failed_responses, lakeshore):
    prop, residents, door, alice, bob = lakeshore
    sign_in(page, live_server)
    page.goto(f"{live_server.url}/admin/accounts/user/{bob.pk}/change/")
    page.click("text=Person page")
    page.wait_for_load_state("load")
    section = page.locator(f"#property-{prop.pk}")
    assert "Lakeshore Lofts (times in America/Chicago)" in section.locator("h2").inner_text()
    access = section.locator("table.keyhouse-person-access tbody tr")
    assert access.count() == 1
    assert (
        "Lobby front door" in access.first.inner_text() and "personal grant on this lock" in access.first.inner_text()
    )

    page.select_option(f"#add-group-{prop.pk}", label="Residents")
    with page.expect_navigation():
        page.click(".keyhouse-add-group button")
    assert "Added Bob Baker to Residents." in page.locator(".messagelist").inner_text()
    settle()
    page.reload()
    groups = page.locator(f"#property-{prop.pk} .keyhouse-person-groups").inner_text()
    assert "Residents" in groups
    why = page.locator(f"#property-{prop.pk} table.keyhouse-person-access").inner_text()
    assert "Group Residents" in why and "Personal grant" in why
    page.screenshot(path=str(SHOTS / "person_page.png"), full_page=True)

    with page.expect_navigation():
        page.click("button[aria-label='Remove from Residents']")
    assert "Removed Bob Baker from Residents." in page.locator(".messagelist").inner_text()
    assert "Harbour" not in page.content()
    assert failed_responses == []


def test_who_can_open_this_door(page, live_server, failed_responses, lakeshore):
    prop, residents, door, alice, bob = lakeshore
    sign_in(page, live_server)
    page.goto(f"{live_server.url}/admin/locks/lock/{door.pk}/change/")
    page.click("text=Who can open this door")
    page.wait_for_load_state("load")
    people = page.locator("#who-list tbody tr")
    assert people.count() == 2
    assert "Alice Archer" in people.nth(0).inner_text() and "Group Residents" in people.nth(0).inner_text()
    assert "Bob Baker" in people.nth(1).inner_text() and "Personal grant" in people.nth(1).inner_text()
    assert "Pending" in page.locator("#key-map-state").inner_text()  # signed, no lock has synced
    page.screenshot(path=str(SHOTS / "who_can_open.png"), full_page=True)
    page.fill("#who-q", "bob")
    with page.expect_navigation():
        page.click("#who-form button")
    assert page.locator("#who-list tbody tr").count() == 1
    assert failed_responses == []


def test_dashboard_lists_a_revocation_no_lock_acknowledged(page, live_server, failed_responses, lakeshore):
    prop, residents, door, alice, bob = lakeshore
    door.refresh_from_db()
    before = door.signed_key_map_version
    access_services.membership_remove(group=residents, user=alice, actor=SYSTEM)
    settle()
    door.refresh_from_db()
    assert door.signed_key_map_version > before  # the revocation is in a newly signed map
    sign_in(page, live_server)
    page.goto(f"{live_server.url}/admin/")
    pending = page.locator("#attention-lockskey_map_pending")
    text = pending.inner_text()
    assert "Locks that have not applied their newest key map (1)" in text
    assert f"Lakeshore Lofts · Lobby front door: key map {door.signed_key_map_version} not applied for" in text
    assert "a revocation in it is not effective yet" in text
    assert "Harbour" not in page.locator("#keyhouse-attention").inner_text()
    page.screenshot(path=str(SHOTS / "dashboard_attention.png"), full_page=True)
    with page.expect_navigation():
        pending.locator("a").first.click()
    assert "Who can open Lobby front door" in page.locator("h1").inner_text()
    assert failed_responses == []


def test_a_grant_typed_in_the_property_zone(page, live_server, failed_responses, lakeshore):
    prop, residents, door, alice, bob = lakeshore
    sign_in(page, live_server)
    page.goto(f"{live_server.url}/admin/access/accessgrant/add/")
    assert "Local time of Lakeshore Lofts (America/Chicago)." in page.locator(".field-valid_until").inner_text()
    page.click(".field-user .select2-selection")
    page.fill(".select2-search__field", "alice")
    page.click(".select2-results__option >> text=Alice Archer")
    page.click(".field-grant_lock .select2-selection")
    page.fill(".select2-search__field", "Lobby")
    page.click(".select2-results__option >> text=Lobby front door")
    page.select_option("select[name=access_level]", "GUEST")
    page.fill("input[name=valid_until_0]", "2031-01-10")
    page.fill("input[name=valid_until_1]", "18:00")
    assert not page.locator(".timezonewarning").first.is_visible()  # "server time" would mislead
    page.screenshot(path=str(SHOTS / "grant_add_zone.png"), full_page=True)
    with page.expect_navigation():
        page.click("input[name=_save]")
    grant = AccessGrant.objects.get(user=alice)
    assert grant.valid_until == datetime(2031, 1, 11, 0, 0, tzinfo=UTC)  # 18:00 in Chicago (CST)
    assert "2031-01-10 18:00 CST" in page.locator("#result_list").inner_text()
    assert failed_responses == []


def test_the_lock_list_fits_1366_px(page, live_server, failed_responses, lakeshore):
    sign_in(page, live_server)  # 1366 × 900, the navigation sidebar open
    page.goto(f"{live_server.url}/admin/locks/lock/")
    results = page.locator("#changelist-form .results")
    widths = results.evaluate("el => [el.scrollWidth, el.clientWidth]")
    page.screenshot(path=str(SHOTS / "lock_list_1366.png"), full_page=False)
    assert widths[0] <= widths[1], f"the lock list overflows: {widths}"
    headers = page.locator("#result_list thead th").all_inner_texts()
    assert [" ".join(h.split()).lower() for h in headers[1:]] == [
        "display name",
        "area",  # no property column: a manager of one property
        "access lines",
        "key map (applied / newest)",
        "last sync",
        "firmware",
        "health",  # door · battery · contact in one column
    ]
    page.screenshot(path=str(SHOTS / "lock_list_1366.png"), full_page=False)
    assert failed_responses == []


def test_the_integration_account_list_fits_1366_px(page, live_server, failed_responses, lakeshore):
    """A backing-off account with a long error: its status says when it tries next, and the
    list (no property column for a manager of one property) does not scroll sideways."""
    prop = lakeshore[0]
    account = lockt_account(prop, base_url="http://127.0.0.1:9/api/v1", display_name="Lockt (head office)")
    IntegrationAccount.objects.filter(pk=account.pk).update(
        status="backing_off",
        next_attempt_at=datetime(2031, 1, 10, 18, 0, tzinfo=UTC),
        last_error="Lockt answered 503: The service is temporarily unavailable. Try again later. " * 3,
    )
    sign_in(page, live_server)  # 1366 × 900, the navigation sidebar open
    page.goto(f"{live_server.url}/admin/integrations/integrationaccount/")
    widths = page.locator("#changelist-form .results").evaluate("el => [el.scrollWidth, el.clientWidth]")
    page.screenshot(path=str(SHOTS / "integration_accounts_1366.png"), full_page=False)
    assert widths[0] <= widths[1], f"the account list overflows: {widths}"
    row = page.locator("#result_list tbody tr").first.inner_text()
    assert "Lockt (head office)" in row and "Lakeshore Lofts" not in row
    assert "Backing off (next try 2031-01-10 12:00 CST)" in " ".join(row.split())  # 18:00 UTC in Chicago
    assert failed_responses == []


def test_the_audit_log_reads_in_names(page, live_server, failed_responses, lakeshore):
    prop, residents, door, alice, bob = lakeshore
    sign_in(page, live_server)
    page.goto(f"{live_server.url}/admin/locks/lock/{door.pk}/change/")
    with page.expect_navigation():
        page.click("a.keyhouse-audit-link")
    rows = page.locator("#result_list tbody tr")
    assert rows.count() >= 2
    text = page.locator("#result_list").inner_text()
    assert "lock Lobby front door" in text and "Lakeshore Lofts" in text
    assert str(door.pk) not in text and "Harbour" not in page.content()
    assert "By object type" in page.locator("#changelist-filter").inner_text()
    page.screenshot(path=str(SHOTS / "audit_log.png"), full_page=False)
    assert failed_responses == []
