"""Portal pages with Django's test client: the sign-in link (session, redirect, token gone),
per-person sign-in, reveal and reset, people actions, invite errors with input kept,
devices and account, CSRF."""

import io
import re
from datetime import timedelta
from zoneinfo import ZoneInfo

import pytest
from django.core import mail
from django.core.management import call_command
from django.test import Client
from django.utils import timezone

from apps.core.actors import SYSTEM
from apps.portal import selectors, services
from apps.portal.models import UnitUser
from tests.factories import access as a
from tests.locks.conftest import Phone
from tests.portal.conftest import add

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("fast_password_hashing")]


def signed_in(token) -> Client:
    client = Client()
    response = client.get(f"/portal/access/{token}")
    assert response.status_code == 302 and response["Location"] == "/portal/"
    return client


def test_the_sign_in_link_sets_a_session_and_redirects_the_token_away(building):
    client = signed_in(building.token1)
    page = client.get("/portal/")
    text = page.content.decode()
    assert page.status_code == 200 and "Unit 1 · Harbour View" in text and building.token1 not in text
    assert "Unit 1 door" in text  # the unit's doors, from derived access
    assert Client().get("/portal/").status_code == 302  # no session: sign in


def test_a_bad_or_rotated_link_does_not_sign_in(building):
    assert Client().get("/portal/access/khr_000000000000_nope").status_code == 404
    client = signed_in(building.token1)
    services.unit_token_rotate(area=building.unit1, actor=SYSTEM)
    assert client.get("/portal/")["Location"] == "/portal/sign-in"  # the old token's session ended too


def test_a_person_signs_in_with_email_and_password_and_reveals_and_resets(building):
    b = building
    b.lena.user.set_password("correct horse battery")
    b.lena.user.save()
    client = Client()
    response = client.post("/portal/sign-in", {"email": "lena@example.test", "password": "correct horse battery"})
    assert response.status_code == 302, response.content.decode()[:2000]
    home = client.get("/portal/").content.decode()
    passphrase = selectors.passphrase_of(b.lena)
    assert "Signed in as Lena Linked" in home and passphrase not in home
    assert passphrase in client.post("/portal/", {"reveal": "1"}).content.decode()
    assert client.post("/portal/passphrase", {"confirm_reset": "1"}).status_code == 302
    assert selectors.passphrase_of(UnitUser.objects.get(pk=b.lena.pk)) != passphrase


def test_wrong_password_is_refused_and_throttled_per_address(building, settings):
    settings.KEYHOUSE_PORTAL_FAILED_AUTH_BURST = 2
    client = Client()
    for _ in range(2):
        response = client.post("/portal/sign-in", {"email": "lena@example.test", "password": "nope"})
        assert response.status_code == 200 and "Wrong email, password or code." in response.content.decode()
    assert client.post("/portal/sign-in", {"email": "lena@example.test", "password": "nope"}).status_code == 429


def test_invite_with_bad_input_keeps_it_next_to_the_field_and_changes_nothing(building):
    client = signed_in(building.token1)
    body = {
        "invite": "1",
        "user_name": "Gus Guest",
        "email": "gus@example.test",
        "phone_number": "0770",
        "valid_until": "",
    }
    response = client.post("/portal/people", body)
    text = response.content.decode()
    assert response.status_code == 400
    assert 'value="Gus Guest"' in text and 'value="0770"' in text
    assert "E.164" in text and "This field is required." in text
    assert not UnitUser.objects.filter(user_name="Gus Guest").exists()


def test_invite_a_guest_in_the_property_time_zone(building):
    client = signed_in(building.token1)
    until = (timezone.now() + timedelta(days=2)).astimezone(ZoneInfo("Europe/London"))
    body = {
        "invite": "1",
        "user_name": "Gus Guest",
        "email": "gus@example.test",
        "valid_until": until.strftime("%Y-%m-%dT%H:%M"),
    }
    assert client.post("/portal/people", body).status_code == 302
    guest = UnitUser.objects.get(user_name="Gus Guest")
    assert abs((guest.valid_until - until.replace(second=0, microsecond=0)).total_seconds()) < 1


def test_block_and_unblock_from_the_people_page(building):
    b = building
    client = signed_in(b.token1)
    assert client.post(f"/portal/people/{b.lena.user_id}", {"action": "block"}).status_code == 302
    assert UnitUser.objects.get(pk=b.lena.pk).status == "BLOCKED"
    response = client.post(f"/portal/people/{b.ulla.user_id}", {"action": "block"}, follow=True)
    assert "last active UNIT user" in response.content.decode()
    client.post(f"/portal/people/{b.lena.user_id}", {"action": "unblock"})
    assert UnitUser.objects.get(pk=b.lena.pk).status == "ACTIVE"
    a.process_events()


def test_the_only_leaseholder_is_offered_no_block_button(building):
    b = building
    page = signed_in(b.token1).get("/portal/people").content.decode()
    ulla = page.split('data-person="Ulla Unit"')[1].split("</li>")[0]
    lena = page.split('data-person="Lena Linked"')[1].split("</li>")[0]
    assert 'value="block"' not in ulla and "Only leaseholder" in ulla
    assert 'value="block"' in lena
    add(b.unit1, name="Ursula Second", user_type="UNIT")
    page = signed_in(b.token1).get("/portal/people").content.decode()
    ulla = page.split('data-person="Ulla Unit"')[1].split("</li>")[0]
    assert 'value="block"' in ulla and "Only leaseholder" not in ulla


def test_devices_page_removes_a_phone(building):
    b = building
    phone = Phone.provision(b.lena.user)
    client = signed_in(b.token1)
    assert "iPhone 15" in client.get("/portal/devices").content.decode()
    client.post("/portal/devices", {"user_id": str(b.lena.user_id), "device_id": str(phone.device.pk)})
    assert "iPhone 15" not in client.get("/portal/devices").content.decode()


def test_pages_need_csrf(building):
    client = Client(enforce_csrf_checks=True)
    client.get(f"/portal/access/{building.token1}")
    assert client.post(f"/portal/people/{building.lena.user_id}", {"action": "block"}).status_code == 403
    assert UnitUser.objects.get(pk=building.lena.pk).status == "ACTIVE"


def test_seed_demo_prints_a_working_sign_in_link_each_run(db):
    links = []
    for _ in range(2):
        out = io.StringIO()
        call_command("seed_demo", stdout=out)
        links.append(re.search(r"(/portal/access/\S+)", out.getvalue()).group(1))
    assert links[0] != links[1]
    assert Client().get(links[0]).status_code == 404  # rotated away by the second run
    client = Client()
    assert client.get(links[1]).status_code == 302
    assert "Unit 101 · Maple Court Apartments" in client.get("/portal/").content.decode()


def test_a_person_signs_in_with_an_emailed_code(building, django_capture_on_commit_callbacks):
    client = Client()
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post("/portal/sign-in", {"send_code": "1", "code-email": "ulla@example.test"})
    assert "a code is on its way" in response.content.decode()
    code = re.search(r"code is (\d{6})", mail.outbox[-1].body).group(1)
    response = client.post("/portal/sign-in", {"email": "ulla@example.test", "code": code})
    assert response.status_code == 302
    assert "Signed in as Ulla Unit" in client.get("/portal/").content.decode()
    client.post("/portal/sign-out")
    assert client.get("/portal/").status_code == 302
