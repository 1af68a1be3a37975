"""Two-factor sign-in in a real browser (issue 16, "Staff sign-in hardening"): a staff member
turns it on from the admin (the QR code is drawn, the key can be typed), signs out, and signs
in again with password and code; a wrong code is refused in plain words."""

import re

import pytest
from django_otp.oath import totp
from django_otp.plugins.otp_totp.models import TOTPDevice

from tests.factories.accounts import UserFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

EMAIL = "two-factor@example.test"
PASSWORD = "two-factor-password-7kx"


def _code(device: TOTPDevice, later: int = 0) -> str:
    device.refresh_from_db()
    return f"{totp(device.bin_key, device.step, device.t0, device.digits, device.drift + later):06d}"


def _sign_in(page, base, code=""):
    page.goto(f"{base}/admin/login/")
    page.fill("input[name=username]", EMAIL)
    page.fill("input[name=password]", PASSWORD)
    if code:
        page.fill("input[name=otp_token]", code)
    page.click("input[type=submit]")
    page.wait_for_load_state("load")


def test_staff_turns_on_two_factor_and_signs_in_with_a_code(page, live_server):
    UserFactory(email=EMAIL, password=PASSWORD, display_name="Tess Two", is_staff=True, is_superuser=True)
    page.set_viewport_size({"width": 1366, "height": 900})
    _sign_in(page, live_server.url)
    page.click("text=Two-factor sign-in")
    assert page.locator(".keyhouse-qr svg").count() == 1
    key = page.locator(".keyhouse-two-factor code").inner_text()
    assert re.fullmatch(r"[A-Z2-7 ]{39}", key)
    page.screenshot(path="/tmp/two_factor_setup.png", full_page=True)
    device = TOTPDevice.objects.get(user__email=EMAIL)
    page.fill("input[name=code]", _code(device))
    page.click("input[type=submit]")
    page.wait_for_load_state("load")
    assert "Two-factor sign-in is on" in page.content()

    page.context.clear_cookies()  # a new browser session
    _sign_in(page, live_server.url)
    assert "Enter the code from your authenticator app" in page.content()
    page.screenshot(path="/tmp/two_factor_code_needed.png", full_page=True)
    _sign_in(page, live_server.url, code=_code(device, later=1))
    assert "/admin/login/" not in page.url
    assert "Keyhouse dashboard" in page.content()
