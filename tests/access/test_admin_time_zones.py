"""Validity typed in the admin is the property's local time, and the zone is named
(docs/ADMIN.md "Time zones"): 18:00 typed for a Chicago property is 18:00 in Chicago."""

from datetime import UTC, datetime

import pytest
from django.urls import reverse

from apps.access.models import AccessGrant, Schedule
from apps.accounts.models import PermissionGrant
from tests.factories import directory as d
from tests.factories.access import lock_in

pytestmark = pytest.mark.django_db


@pytest.fixture
def chicago():
    prop = d.property_create(display_name="Lakeshore Lofts", time_zone="America/Chicago")
    door = lock_in(d.area_create(prop, display_name="Lakeshore Lobby", area_type="common"), "Lakeshore door")
    guest = d.user_create(email="guest@example.test", display_name="Gina Guest")
    d.member_add(d.property_group(prop), guest)
    manager = d.user_create(email="manager@example.test", display_name="Mara Manager")
    PermissionGrant.objects.create(user=manager, permission="owner", property_id=prop.pk)
    return prop, door, guest, manager


def test_grant_add_page_names_the_zone_and_preselects_the_only_property(client, chicago):
    prop, door, guest, manager = chicago
    client.force_login(manager)
    html = client.get(reverse("admin:access_accessgrant_add")).content.decode()
    assert "Local time of Lakeshore Lofts (America/Chicago)." in html
    assert "Lakeshore Lofts (America/Chicago)" in html
    assert "server time" not in html


def test_a_grant_typed_at_18_00_ends_at_18_00_in_chicago(client, chicago):
    prop, door, guest, manager = chicago
    client.force_login(manager)
    response = client.post(
        reverse("admin:access_accessgrant_add"),
        {
            "property": prop.pk,
            "user": guest.pk,
            "grant_lock": door.pk,
            "access_level": "GUEST",
            "valid_from_0": "2031-01-10",
            "valid_from_1": "09:00",
            "valid_until_0": "2031-01-10",
            "valid_until_1": "18:00",
        },
    )
    assert response.status_code == 302, response.content.decode()[:3000]
    grant = AccessGrant.objects.get(user=guest)
    assert grant.valid_until == datetime(2031, 1, 11, 0, 0, tzinfo=UTC)  # 18:00 CST
    assert grant.valid_from == datetime(2031, 1, 10, 15, 0, tzinfo=UTC)
    page = client.get(reverse("admin:access_accessgrant_change", args=[grant.pk])).content.decode()
    assert "18:00" in page and "America/Chicago" in page
    listing = client.get(reverse("admin:access_accessgrant_changelist")).content.decode()
    assert "2031-01-10 18:00 CST" in listing


def test_a_schedule_validity_is_read_in_the_property_zone(client, chicago):
    prop, door, guest, manager = chicago
    client.force_login(manager)
    response = client.post(
        reverse("admin:access_schedule_add"),
        {
            "property": prop.pk,
            "display_name": "Winter",
            "windows": '[{"days": ["mon"], "start": "08:00", "stop": "18:00"}]',
            "valid_from_0": "2031-01-10",
            "valid_from_1": "00:00",
            "valid_until_0": "",
            "valid_until_1": "",
        },
    )
    assert response.status_code == 302, response.content.decode()[:3000]
    schedule = Schedule.objects.get(display_name="Winter")
    assert schedule.valid_from == datetime(2031, 1, 10, 6, 0, tzinfo=UTC)
    page = client.get(reverse("admin:access_schedule_change", args=[schedule.pk])).content.decode()
    assert 'value="00:00:00"' in page or 'value="00:00"' in page
