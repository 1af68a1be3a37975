"""The event admin read as an audit log (docs/ADMIN.md "Audit log"): newest first, names not
ids, filters, the "Audit log" link of object pages, and a manager reads their properties' only."""

import pytest
from django.urls import reverse

from apps.access import services as access_services
from apps.accounts.models import PermissionGrant
from apps.core.actors import actor_for_staff
from tests.factories import directory as d
from tests.factories.access import lock_in

pytestmark = pytest.mark.django_db


@pytest.fixture
def world():
    manager = d.user_create(email="manager@example.test", display_name="Alma Manager")
    alpha = d.property_create(display_name="Alphahaus Court")
    bravo = d.property_create(display_name="Bravoburg Towers")
    PermissionGrant.objects.create(user=manager, permission="owner", property_id=alpha.pk)
    lobby = d.area_create(alpha, display_name="Alphahaus Lobby", area_type="common")
    door = lock_in(lobby, "Lobby front door")
    alice = d.user_create(email="alice@example.test", display_name="Alice Resident")
    access_services.membership_add(group=d.property_group(alpha), user=alice, actor=actor_for_staff(manager))
    d.area_create(bravo, display_name="Bravoburg Lobby")
    return manager, alpha, bravo, door, alice


def rows(html: str) -> list[str]:
    body = html.split('id="result_list"')[1].split("</tbody>")[0]
    return body.split("<tr")[2:]


def test_newest_first_in_names(client, world):
    manager, alpha, bravo, door, alice = world
    client.force_login(manager)
    html = client.get(reverse("admin:events_event_changelist")).content.decode()
    listed = rows(html)
    assert "group.member_added" in listed[0]  # the newest
    assert "Alphahaus Court" in listed[0] and "person Alice Resident" in listed[0] and "staff Alma Manager" in listed[0]
    assert str(alice.pk) not in html.split('id="result_list"')[1]
    assert "Bravoburg" not in html


def test_filters_by_property_object_type_actor_and_object(client, world):
    manager, alpha, bravo, door, alice = world
    client.force_login(manager)
    url = reverse("admin:events_event_changelist")
    by_actor = client.get(url, {"actor": actor_for_staff(manager)}).content.decode()
    assert len(rows(by_actor)) == 1 and "group.member_added" in by_actor
    by_type = client.get(url, {"event_source": "lock"}).content.decode()
    assert "lock.installed" in by_type and "group.member_added" not in by_type
    about_door = client.get(url, {"object": door.pk}).content.decode()
    assert "lock.provisioned" in about_door and "area.created" not in about_door
    other = client.get(url, {"property": bravo.pk}).content.decode()
    assert "Bravoburg" not in other and "area.created" not in other.split('id="result_list"')[-1]
    assert client.get(url, {"object": "not-a-uuid"}).status_code in (200, 302)


def test_object_pages_link_to_their_audit_log(client, world):
    manager, alpha, bravo, door, alice = world
    client.force_login(manager)
    for url, pk in (
        (reverse("admin:locks_lock_change", args=[door.pk]), door.pk),
        (reverse("admin:properties_property_change", args=[alpha.pk]), alpha.pk),
        (reverse("admin:accounts_user_change", args=[alice.pk]), alice.pk),
    ):
        html = client.get(url).content.decode()
        assert f"{reverse('admin:events_event_changelist')}?object={pk}" in html, url


def test_manager_has_no_process_again_and_no_event_of_another_property(client, world):
    manager, alpha, bravo, door, alice = world
    from apps.events.models import Event

    client.force_login(manager)
    html = client.get(reverse("admin:events_event_changelist")).content.decode()
    assert "process_again" not in html
    bravo_event = Event.objects.filter(property_id=bravo.pk).first()
    response = client.get(reverse("admin:events_event_change", args=[bravo_event.pk]), follow=True)
    assert "Bravoburg" not in response.content.decode()
