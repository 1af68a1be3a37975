"""Membership windows in the admin: shown on the group page and the person page in the
property's local time, editable by a manager of that one property on Keyhouse-owned
memberships (through membership_window_update, one event), read-only when Lockt sets them."""

from datetime import UTC, datetime

import pytest
from django.contrib.contenttypes.models import ContentType

from apps.access import services as access_services
from apps.access.models import Membership
from apps.accounts.models import PermissionGrant
from apps.core.actors import SYSTEM
from apps.core.models import ExternalRef
from apps.events.models import Event
from tests.access.test_admin import formset
from tests.factories import directory as d
from tests.factories.integrations import lockt_account, lockt_person_link

pytestmark = pytest.mark.django_db

GROUPS = "/admin/access/usergroup/"


@pytest.fixture
def chicago(client):
    prop = d.property_create(display_name="Lakeshore Lofts", time_zone="America/Chicago")
    d.property_create(display_name="Elsewhere")  # the manager's scope is one property of two
    ada = d.user_create(display_name="Ada Lovelace", email="ada@example.test")
    group = d.group_create(prop, display_name="Cleaners", group_type="staff", members=[ada])
    manager = d.user_create(email="manager@example.test", display_name="Mara Manager")
    PermissionGrant.objects.create(user=manager, permission="manage-access", property_id=prop.pk)
    client.force_login(manager)
    return prop, group, ada, client


def _window(group, user):
    m = Membership.objects.get(user_group=group, user=user)
    return (m.valid_from, m.valid_until)


def _change(group, **window) -> dict:
    (m,) = Membership.objects.filter(user_group=group)
    row = {"id": m.pk, "user_group": group.pk, **window}
    return {
        "display_name": group.display_name,
        **formset("memberships", [row], initial=1),
        **formset("memberships-2", []),
    }


def test_the_group_page_shows_and_saves_a_window_in_local_time(chicago):
    prop, group, ada, client = chicago
    url = f"{GROUPS}{group.pk}/change/"
    page = client.get(url).content.decode()
    assert "always" in page and 'name="memberships-0-valid_from_0"' in page

    data = _change(
        group,
        valid_from_0="2026-12-01",
        valid_from_1="09:00",
        valid_until_0="2026-12-24",
        valid_until_1="18:00",
    )
    response = client.post(url, data)
    assert response.status_code == 302, response.content.decode()[:3000]
    # 09:00 in Chicago (CST, UTC-6) is 15:00 UTC
    assert _window(group, ada) == (datetime(2026, 12, 1, 15, tzinfo=UTC), datetime(2026, 12, 25, 0, tzinfo=UTC))
    events = Event.objects.filter(event_name="group.member_window_set", user_id=ada.pk)
    assert events.count() == 1 and events.get().last_modified_by.startswith("staff:")

    page = client.get(url).content.decode()
    assert "from 1 Dec 2026 09:00 until 24 Dec 2026 18:00 (America/Chicago)" in page
    person = client.get(f"/admin/accounts/user/{ada.pk}/person/").content.decode()
    assert "from 1 Dec 2026 09:00 until 24 Dec 2026 18:00 (America/Chicago)" in person


def test_a_backwards_window_is_refused_on_the_field_and_nothing_changes(chicago):
    prop, group, ada, client = chicago
    url = f"{GROUPS}{group.pk}/change/"
    data = _change(
        group, valid_from_0="2026-12-24", valid_from_1="18:00", valid_until_0="2026-12-01", valid_until_1="09:00"
    )
    response = client.post(url, data)
    assert response.status_code == 200
    assert "Must be after valid from." in response.content.decode()
    assert _window(group, ada) == (None, None)
    assert not Event.objects.filter(event_name="group.member_window_set").exists()


def test_a_lockt_owned_window_is_read_only(chicago):
    prop, group, ada, client = chicago
    account = lockt_account(prop, base_url="http://127.0.0.1:9/lockt")
    lockt_person_link(account, ada)
    ExternalRef.objects.create(
        content_type=ContentType.objects.get_for_model(group),
        object_id=group.pk,
        source="lockt",
        account_id=account.pk,
        external_id="7",
        sync_direction="fromExternalToInternal",
        sync_status="synced",
    )
    until = datetime(2026, 12, 24, 18, tzinfo=UTC)
    access_services.membership_window_set(group=group, user=ada, valid_from=None, valid_until=until, actor=SYSTEM)
    url = f"{GROUPS}{group.pk}/change/"
    page = client.get(url).content.decode()
    assert "Lockt (read-only here)" in page
    assert "until 24 Dec 2026 12:00 (America/Chicago)" in page
    events = Event.objects.count()

    response = client.post(url, _change(group, valid_until_0="2027-01-31", valid_until_1="00:00"))
    assert response.status_code == 302, response.content.decode()[:3000]
    assert _window(group, ada) == (None, until)  # the disabled inputs are ignored
    assert Event.objects.count() == events


def test_another_propertys_group_page_is_not_found(chicago):
    prop, group, ada, client = chicago
    foreign = d.group_create(d.property_create(display_name="Far Away"), members=[d.user_create()])
    assert client.get(f"{GROUPS}{foreign.pk}/change/").status_code in (302, 404)


def test_the_group_page_reads_ownership_once_not_per_member(chicago):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    prop, group, ada, client = chicago
    url = f"{GROUPS}{group.pk}/change/"

    def queries() -> int:
        with CaptureQueriesContext(connection) as captured:
            assert client.get(url).status_code == 200
        return len(captured)

    few = queries()
    for n in range(5):
        d.member_add(group, d.user_create(display_name=f"Member {n}"))
    assert queries() == few
