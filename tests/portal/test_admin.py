"""The portal's staff admin: unit users inline on the area page, token rotation (the new link
shown once, the old token refused), block / reset passphrase actions, adding a unit user."""

import re

import pytest
from django.core import mail

from apps.accounts.selectors import credential_authenticate
from apps.portal import selectors
from apps.portal.models import UnitUser
from tests.factories import directory as d

pytestmark = pytest.mark.django_db


def test_the_area_page_lists_the_units_people(staff_client, building):
    page = staff_client.get(f"/admin/areas/area/{building.unit1.pk}/change/").content.decode()
    assert "Unit users (resident portal)" in page and "Ulla Unit" in page and "Lena Linked" in page
    assert "Uma Other" not in page
    lobby = staff_client.get(f"/admin/areas/area/{building.lobby.pk}/change/").content.decode()
    assert "Unit users (resident portal)" not in lobby


def test_rotating_the_token_shows_the_new_link_once_and_ends_the_old(staff_client, building):
    response = staff_client.post(
        "/admin/portal/unit/",
        {"action": "rotate_token", "_selected_action": [str(building.unit1.pk)]},
        follow=True,
    )
    text = response.content.decode()
    secret = re.search(r"/portal/access/(khr_\S+?)(?:<|\s|$)", text).group(1)
    assert credential_authenticate(secret)[0].id == building.unit1.pk
    assert credential_authenticate(building.token1) is None
    listing = staff_client.get("/admin/portal/unit/").content.decode()
    assert secret not in listing and "Unit 1" in listing


def test_block_and_reset_passphrase_actions(staff_client, building):
    before = selectors.passphrase_of(building.lena)
    staff_client.post(
        "/admin/portal/unituser/",
        {"action": "reset_passphrase", "_selected_action": [str(building.lena.pk)]},
    )
    assert selectors.passphrase_of(UnitUser.objects.get(pk=building.lena.pk)) != before
    response = staff_client.post(
        "/admin/portal/unituser/",
        {"action": "block", "_selected_action": [str(building.lena.pk), str(building.ulla.pk)]},
        follow=True,
    )
    text = response.content.decode()
    assert "Blocked: 1 unit user(s)." in text and "last active UNIT user of a unit cannot be blocked" in text
    assert UnitUser.objects.get(pk=building.lena.pk).status == "BLOCKED"
    assert UnitUser.objects.get(pk=building.ulla.pk).status == "ACTIVE"


def test_staff_add_a_unit_user_who_is_emailed_how_to_sign_in(
    staff_client, building, django_capture_on_commit_callbacks
):
    person = d.user_create(display_name="Nia New", email="nia@example.test")
    with django_capture_on_commit_callbacks(execute=True):
        response = staff_client.post(
            "/admin/portal/unituser/add/",
            {"area": str(building.unit2.pk), "user": str(person.pk), "user_type": "LINKED", "user_name": ""},
        )
    assert response.status_code == 302, response.content.decode()[:3000]
    invitation = mail.outbox[-1]
    assert invitation.to == ["nia@example.test"] and "/portal/sign-in" in invitation.body
    assert "Unit 2 at Harbour View" in invitation.body
    added = UnitUser.objects.get(user=person)
    assert added.area_id == building.unit2.pk and added.user_name == "Nia New" and selectors.passphrase_of(added)
    again = staff_client.post(
        "/admin/portal/unituser/add/",
        {"area": str(building.unit1.pk), "user": str(person.pk), "user_type": "LINKED"},
    )
    assert again.status_code == 200 and "Already a unit user at this property." in again.content.decode()
