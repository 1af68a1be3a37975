"""Staff sign-in hardening (issue 16): failed admin sign-ins locked out per account and per
address (django-axes), and two-factor sign-in with an authenticator app (django-otp TOTP),
optional, or required for everyone when KEYHOUSE_STAFF_OTP_REQUIRED is set."""

import re
import time

import pytest
from django.test import Client
from django_otp.oath import totp
from django_otp.plugins.otp_totp.models import TOTPDevice

from tests.factories.accounts import UserFactory

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("fast_password_hashing")]

PASSWORD = "correct horse battery"
LOGIN = "/admin/login/?next=/admin/"


@pytest.fixture
def staff(db):
    return UserFactory(email="staffer@example.test", display_name="Sam Staff", is_staff=True, is_superuser=True)


def sign_in(client, email, password=PASSWORD, code="", address="10.0.0.1"):
    return client.post(LOGIN, {"username": email, "password": password, "otp_token": code}, REMOTE_ADDR=address)


def code_for(device: TOTPDevice, *, later: int = 0) -> str:
    return f"{totp(device.bin_key, device.step, device.t0, device.digits, device.drift + later):06d}"


def test_five_failed_sign_ins_pause_the_account_even_with_the_right_password(staff):
    client = Client()
    for _ in range(4):
        assert sign_in(client, staff.email, "wrong").status_code == 200
    assert sign_in(client, staff.email, "wrong").status_code == 429  # the fifth failure pauses
    locked = sign_in(client, staff.email)
    assert locked.status_code == 429
    assert "Sign-in paused" in locked.content.decode()
    # Another address: the account is still paused (per account) ...
    assert sign_in(Client(), staff.email, address="10.0.0.2").status_code == 429
    # ... and another account from the first address is paused too (per address).
    other = UserFactory(email="other@example.test", is_staff=True, is_superuser=True)
    assert sign_in(Client(), other.email, address="10.0.0.1").status_code == 429
    assert sign_in(Client(), other.email, address="10.0.0.3").status_code == 302


def test_a_success_resets_the_count(staff):
    client = Client()
    for _ in range(4):
        sign_in(client, staff.email, "wrong")
    assert sign_in(client, staff.email).status_code == 302
    client.post("/admin/logout/")
    for _ in range(4):
        sign_in(client, staff.email, "wrong")
    assert sign_in(client, staff.email).status_code == 302


def test_the_api_sign_in_is_not_counted_by_the_admin_lockout(staff):
    for _ in range(6):
        Client().post(
            "/api/v1/auth/token", {"email": staff.email, "password": "wrong"}, content_type="application/json"
        )
    assert sign_in(Client(), staff.email).status_code == 302


def _set_up(client, staff) -> TOTPDevice:
    client.force_login(staff)
    page = client.get("/admin/two-factor/")
    assert page.status_code == 200 and "<svg" in page.content.decode()
    device = TOTPDevice.objects.get(user=staff, confirmed=False)
    key = re.search(r"<code>([A-Z2-7 ]+)</code>", page.content.decode()).group(1)
    assert len(key.replace(" ", "")) == 32
    wrong = client.post("/admin/two-factor/", {"code": "000000" if code_for(device) != "000000" else "111111"})
    assert wrong.status_code == 400 and "not right" in wrong.content.decode()
    # django-otp pauses the device for a second after a wrong code: the right one must wait.
    paused = client.post("/admin/two-factor/", {"code": code_for(device)})
    assert paused.status_code == 400 and "wait a few seconds" in paused.content.decode()
    time.sleep(1.1)
    assert client.post("/admin/two-factor/", {"code": code_for(device)}).status_code == 302
    device.refresh_from_db()
    assert device.confirmed
    return device


def test_two_factor_set_up_then_every_sign_in_needs_a_code(staff):
    device = _set_up(Client(), staff)
    client = Client()
    refused = sign_in(client, staff.email)
    assert refused.status_code == 200 and "Enter the code from your authenticator app" in refused.content.decode()
    wrong = sign_in(client, staff.email, code="123456" if code_for(device, later=1) != "123456" else "654321")
    assert wrong.status_code == 200 and "not right" in wrong.content.decode()
    time.sleep(1.1)  # the pause after a wrong code
    assert sign_in(client, staff.email, code=code_for(device, later=1)).status_code == 302
    assert client.get("/admin/").status_code == 200


def test_turning_two_factor_off_needs_a_current_code(staff):
    device = _set_up(Client(), staff)
    client = Client()
    client.force_login(staff)
    assert (
        client.post(
            "/admin/two-factor/", {"code": "999999" if code_for(device, later=1) != "999999" else "888888"}
        ).status_code
        == 400
    )
    assert TOTPDevice.objects.filter(user=staff, confirmed=True).exists()
    time.sleep(1.1)  # the pause after a wrong code
    assert client.post("/admin/two-factor/", {"code": code_for(device, later=1)}).status_code == 302
    assert not TOTPDevice.objects.filter(user=staff).exists()
    assert sign_in(Client(), staff.email).status_code == 302


def test_when_required_a_signed_in_person_sets_it_up_before_any_page(staff, settings):
    settings.KEYHOUSE_STAFF_OTP_REQUIRED = True
    client = Client()
    assert sign_in(client, staff.email).status_code == 302
    for path in ("/admin/", "/admin/properties/property/", "/admin/accounts/user/"):
        response = client.get(path)
        assert response.status_code == 302 and response["Location"] == "/admin/two-factor/"
    page = client.get("/admin/two-factor/").content.decode()
    assert "required before you can use the admin" in page
    device = TOTPDevice.objects.get(user=staff)
    assert client.post("/admin/two-factor/", {"code": code_for(device)}).status_code == 302
    assert client.get("/admin/").status_code == 200  # this session is verified now
    off = client.post("/admin/two-factor/", {"code": code_for(device, later=1)}, follow=True)
    assert "cannot be turned off" in off.content.decode()
    assert TOTPDevice.objects.filter(user=staff, confirmed=True).exists()
