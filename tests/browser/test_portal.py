"""The resident portal in a real browser (Debian chromium), at phone width (390 px) and
desktop width: the sign-in link, reveal and reset the passphrase, invite a guest, block a
person, bad input kept next to its field. Screenshots go to /tmp/portal-screens/."""

from datetime import timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from django.utils import timezone

from apps.core.actors import SYSTEM
from apps.portal import selectors, services
from apps.portal.models import UnitUser
from tests.factories import access as a
from tests.factories import directory as d

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

SHOTS = Path("/tmp/portal-screens")
WIDTHS = {"phone": {"width": 390, "height": 844}, "desktop": {"width": 1280, "height": 900}}


@pytest.fixture
def flat(transactional_db):
    prop = d.property_create(display_name="Harbour View", time_zone="Europe/London")
    services.portal_settings_update(prop=prop, actor=SYSTEM, wifi_network_name="HarbourView-Residents")
    tower = d.area_create(prop, display_name="Tower")
    unit, token = services.unit_create(prop=prop, display_name="Flat 4", parent_id=tower.pk, actor=SYSTEM)
    lobby = d.area_create(prop, display_name="Lobby", area_type="common", parent=tower)
    a.lock_in(unit, "Flat 4 door")
    a.lock_in(lobby, "Lobby door")
    lee = d.user_create(display_name="Lee Holder", email="lee@example.test", password="correct horse battery")
    kim = d.user_create(display_name="Kim Linked", email="kim@example.test")
    lee_u = services.unit_user_create(area=unit, user=lee, user_type="UNIT", actor=SYSTEM)
    kim_u = services.unit_user_create(area=unit, user=kim, user_type="LINKED", actor=SYSTEM)
    a.process_events()
    return {"prop": prop, "unit": unit, "token": token, "lee": lee_u, "kim": kim_u}


@pytest.fixture(params=list(WIDTHS))
def sized(request, browser):
    context = browser.new_context(viewport=WIDTHS[request.param])
    context.set_default_timeout(15_000)
    page = context.new_page()
    SHOTS.mkdir(parents=True, exist_ok=True)
    yield page, request.param
    context.close()


def shot(page, width: str, name: str):
    page.screenshot(path=str(SHOTS / f"{name}-{width}.png"), full_page=True)


def test_sign_in_link_then_people_invite_and_block(sized, live_server, flat):
    page, width = sized
    page.goto(f"{live_server.url}/portal/access/{flat['token']}")
    assert page.url == f"{live_server.url}/portal/"  # the token left the address bar
    assert "Flat 4 · Harbour View" in page.inner_text("header")
    assert "HarbourView-Residents" in page.inner_text("#wifi")
    assert "Flat 4 door" in page.inner_text("#doors") and "Lobby door" not in page.inner_text("#doors")
    shot(page, width, "home-unit-link")

    page.click("nav >> text=People")
    # bad input: kept, errors next to the fields
    page.fill("#id_user_name", "Gus Guest")
    page.fill("#id_email", "gus@example")
    page.fill("#id_phone_number", "0770 900")
    page.click("button[name=invite]")
    assert page.input_value("#id_user_name") == "Gus Guest" and page.input_value("#id_phone_number") == "0770 900"
    assert "E.164" in page.inner_text("#id_phone_number-errors")
    assert "valid email" in page.inner_text("#id_email-errors")
    assert "required" in page.inner_text("#id_valid_until-errors")
    shot(page, width, "people-bad-input")
    assert not UnitUser.objects.filter(user_name="Gus Guest").exists()

    until = (timezone.now() + timedelta(days=2)).astimezone(ZoneInfo("Europe/London"))
    page.fill("#id_email", "gus@example.test")
    page.fill("#id_phone_number", "")
    page.fill("#id_valid_until", until.strftime("%Y-%m-%dT%H:%M"))
    page.click("button[name=invite]")
    assert "Gus Guest is invited." in page.inner_text(".messages")
    guest_row = page.locator("li[data-person='Gus Guest']")
    assert "guest" in guest_row.inner_text() and until.strftime("%H:%M") in guest_row.inner_text()

    page.locator("li[data-person='Kim Linked'] button[value=block]").click()
    assert "Kim Linked is blocked." in page.inner_text(".messages")
    assert "blocked" in page.locator("li[data-person='Kim Linked']").inner_text()
    # The last active leaseholder is offered no Block button (the server would refuse it).
    lee = page.locator("li[data-person='Lee Holder']")
    assert lee.locator("button[value=block]").count() == 0
    assert "Only leaseholder" in lee.inner_text()
    shot(page, width, "people-after-block")
    assert UnitUser.objects.get(pk=flat["kim"].pk).status == "BLOCKED"


def test_person_signs_in_reveals_and_resets_the_passphrase(sized, live_server, flat, settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    lee = flat["lee"]
    lee.user.set_password("correct horse battery")
    lee.user.save()
    page, width = sized
    page.goto(f"{live_server.url}/portal/sign-in")
    shot(page, width, "sign-in")
    page.fill("#id_email", "lee@example.test")
    page.fill("#id_password", "correct horse battery")
    page.click("button[name=sign_in]")
    assert "Signed in as Lee Holder" in page.inner_text("header")
    before = selectors.passphrase_of(lee)
    assert before not in page.content()
    page.click("button[name=reveal]")
    assert page.inner_text("#passphrase") == before
    shot(page, width, "home-revealed")

    page.click("text=Reset or choose a passphrase")
    page.fill("#id_passphrase", "short")
    page.click("button[name=choose]")
    assert "at least 8" in page.inner_text(".errorlist") or "8 to 63" in page.inner_text(".errorlist")
    assert page.input_value("#id_passphrase") == "short"
    page.click("button[name=confirm_reset]")
    assert "was reset" in page.inner_text(".messages")
    page.click("button[name=reveal]")
    after = page.inner_text("#passphrase")
    assert after != before and after == selectors.passphrase_of(UnitUser.objects.get(pk=lee.pk))
