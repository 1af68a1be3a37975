"""The person page and "who can open this door" (docs/ADMIN.md): what a manager reads there,
and that a membership changed on the person page changes who can open the door."""

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from apps.access import services as access_services
from apps.accounts.models import PermissionGrant
from apps.core.actors import SYSTEM
from tests.factories import directory as d
from tests.factories.access import lock_in, process_events

pytestmark = pytest.mark.django_db


@pytest.fixture
def house():
    prop = d.property_create(display_name="Alphahaus Court", time_zone="America/Chicago")
    residents = d.property_group(prop)
    lobby = d.area_create(
        prop,
        display_name="Alphahaus Lobby",
        area_type="common",
        access_list=[{"accessType": "group", "userGroupId": str(residents.pk)}],
    )
    door = lock_in(lobby, "Lobby front door")
    alice = d.user_create(email="alice@example.test", display_name="Alice Resident")
    bob = d.user_create(email="bob@example.test", display_name="Bob Walker")
    carol = d.user_create(email="carol@example.test", display_name="Carol Later")
    d.member_add(residents, alice)
    access_services.grant_create(
        prop=prop,
        user=bob,
        access_level="GUEST",
        lock=door,
        actor=SYSTEM,
        valid_until=timezone.now() + timedelta(hours=5),
    )
    access_services.grant_create(
        prop=prop,
        user=carol,
        access_level="GUEST",
        lock=door,
        actor=SYSTEM,
        valid_from=timezone.now() + timedelta(days=2),
        valid_until=timezone.now() + timedelta(days=3),
    )
    process_events()
    manager = d.user_create(email="manager@example.test", display_name="Alma Manager")
    PermissionGrant.objects.create(user=manager, permission="owner", property_id=prop.pk)
    return prop, residents, door, alice, bob, carol, manager


def test_person_page_shows_groups_grants_and_what_they_can_open(client, house):
    prop, residents, door, alice, bob, carol, manager = house
    client.force_login(manager)
    change = client.get(reverse("admin:accounts_user_change", args=[alice.pk])).content.decode()
    assert reverse("admin:accounts_user_person", args=[alice.pk]) in change
    page = client.get(reverse("admin:accounts_user_person", args=[alice.pk]))
    assert page.status_code == 200
    html = page.content.decode()
    assert "Alphahaus Court" in html and "America/Chicago" in html
    assert "Residents" in html
    assert "Lobby front door" in html
    assert "Group Residents" in html and "access list entry #0 of area &#x27;Alphahaus Lobby&#x27;" in html


def test_person_page_a_grant_that_starts_later_opens_this_week_not_now(client, house):
    prop, residents, door, alice, bob, carol, manager = house
    client.force_login(manager)
    html = client.get(reverse("admin:accounts_user_person", args=[carol.pk])).content.decode()
    assert "Lobby front door" in html
    row = html.split("keyhouse-person-access")[1].split("</table>")[0]
    assert "<td>no</td>" in row and "from " in row and "personal grant on this lock" in row


def test_person_page_adds_and_removes_a_group_and_the_door_follows(client, house):
    prop, residents, door, alice, bob, carol, manager = house
    client.force_login(manager)
    url = reverse("admin:accounts_user_person", args=[bob.pk])
    response = client.post(url, {"membership": "add", "group": residents.pk}, follow=True)
    assert "Added Bob Walker to Residents." in response.content.decode()
    assert residents.memberships.filter(user=bob).exists()
    process_events()
    who = client.get(reverse("admin:locks_lock_who", args=[door.pk]), {"q": "bob"}).content.decode()
    assert "Bob Walker" in who and "Group Residents" in who and "Personal grant" in who
    client.post(url, {"membership": "remove", "group": residents.pk})
    assert not residents.memberships.filter(user=bob).exists()


def test_who_can_open_lists_people_now_with_the_reason_and_searches(client, house):
    prop, residents, door, alice, bob, carol, manager = house
    client.force_login(manager)
    lock_page = client.get(reverse("admin:locks_lock_change", args=[door.pk])).content.decode()
    assert reverse("admin:locks_lock_who", args=[door.pk]) in lock_page
    html = client.get(reverse("admin:locks_lock_who", args=[door.pk])).content.decode()
    assert "Alice Resident" in html and "Bob Walker" in html
    assert "Carol Later" not in html  # her grant starts in two days
    assert "2 people can open Lobby front door" in html
    everyone = client.get(reverse("admin:locks_lock_who", args=[door.pk]), {"show": "all"}).content.decode()
    assert "Carol Later" in everyone and "not valid before" in everyone
    searched = client.get(reverse("admin:locks_lock_who", args=[door.pk]), {"q": "alice"}).content.decode()
    assert "Alice Resident" in searched and "Bob Walker" not in searched


def test_who_can_open_says_whether_the_revocation_reached_the_door(client, house):
    from tests.locks.conftest import settle

    prop, residents, door, alice, bob, carol, manager = house
    settle()  # the key map is signed; no lock has synced
    client.force_login(manager)
    html = client.get(reverse("admin:locks_lock_who", args=[door.pk])).content.decode()
    assert "Pending" in html and "revocations included" in html
