"""Lock rename in the admin (lock_update, event lock.updated) and the area page's
"Add sub-area" (issue 16, plain words)."""

import pytest
from django.urls import reverse

from apps.accounts.models import PermissionGrant
from apps.events.models import Event
from tests.factories import directory as d
from tests.factories.access import lock_in

pytestmark = pytest.mark.django_db


@pytest.fixture
def manager_of(client):
    prop = d.property_create(display_name="Alphahaus Court")
    manager = d.user_create(email="manager@example.test", display_name="Alma Manager")
    PermissionGrant.objects.create(user=manager, permission="owner", property_id=prop.pk)
    client.force_login(manager)
    return prop


def test_a_manager_renames_a_lock(client, manager_of):
    lobby = d.area_create(manager_of, display_name="Alphahaus Lobby", area_type="common")
    door = lock_in(lobby, "Door 1")
    url = reverse("admin:locks_lock_change", args=[door.pk])
    assert 'name="display_name"' in client.get(url).content.decode()
    response = client.post(url, {"display_name": "Lobby front door", "area": lobby.pk})
    assert response.status_code == 302, response.content.decode()[:2000]
    door.refresh_from_db()
    assert door.display_name == "Lobby front door" and door.area_id == lobby.pk
    assert Event.objects.filter(event_name="lock.updated", lock_id=door.pk).count() == 1


def test_the_area_page_adds_a_sub_area_in_place(client, manager_of):
    building = d.area_create(manager_of, display_name="Tower")
    page = client.get(reverse("admin:areas_area_change", args=[building.pk])).content.decode()
    add = f"{reverse('admin:areas_area_add')}?property={manager_of.pk}&amp;parent={building.pk}"
    assert f'href="{add}"' in page and "Add sub-area" in page
    form = client.get(add.replace("&amp;", "&")).content.decode()
    assert f'<option value="{building.pk}" selected>' in form
