"""The dashboard's "Needs attention" (apps.core.attention, docs/ADMIN.md): each app's items,
in names, for the manager's properties only."""

from datetime import timedelta

import pytest
from django.utils import timezone

from apps.access import services as access_services
from apps.accounts.models import PermissionGrant
from apps.core.actors import SYSTEM
from apps.core.attention import attention_sections
from apps.events.constants import FAILING_AFTER_ATTEMPTS
from apps.events.models import Event
from apps.locks.models import LockAccessLog
from apps.locks.services.health import lock_health_record
from tests.factories import directory as d
from tests.factories.access import lock_in
from tests.locks.conftest import Phone, settle

pytestmark = pytest.mark.django_db


def _property(name, prefix):
    prop = d.property_create(display_name=name, time_zone="America/Chicago")
    residents = d.property_group(prop)
    lobby = d.area_create(
        prop,
        display_name=f"{prefix} Lobby",
        area_type="common",
        access_list=[{"accessType": "group", "userGroupId": str(residents.pk)}],
    )
    door = lock_in(lobby, f"{prefix} front door")
    person = d.user_create(email=f"{prefix.lower()}@example.test", display_name=f"{prefix} Resident")
    d.member_add(residents, person)
    Phone.provision(person)  # the key map names the phone's key: taking access away changes it
    guest = d.user_create(email=f"{prefix.lower()}-guest@example.test", display_name=f"{prefix} Guest")
    access_services.grant_create(
        prop=prop,
        user=guest,
        access_level="GUEST",
        lock=door,
        actor=SYSTEM,
        valid_until=timezone.now() + timedelta(hours=3),
    )
    lock_health_record(lock=door, source="keyhouse", actor=SYSTEM, battery_level=7)
    LockAccessLog.objects.create(
        lock=door, sequence=1, access_date=timezone.now(), result="denied", reason="unknown-key", user_id=guest.pk
    )
    return prop, residents, door, person


@pytest.fixture
def world():
    alpha = _property("Alphahaus Court", "Alpha")
    bravo = _property("Bravoburg Towers", "Bravo")
    settle()
    manager = d.user_create(email="manager@example.test", display_name="Alma Manager")
    PermissionGrant.objects.create(user=manager, permission="owner", property_id=alpha[0].pk)
    return alpha, bravo, manager


def attention_html(client, manager) -> str:
    client.force_login(manager)
    response = client.get("/admin/")
    assert response.status_code == 200
    html = response.content.decode()
    return html.split('id="keyhouse-attention"')[1].split("At a glance")[0]


def test_every_app_registers_its_section():
    names = {section.name for section in attention_sections()}
    assert {
        "locks.key_map_pending",
        "locks.unwell",
        "locks.denied",
        "events.failing",
        "access.guest_grants_ending",
        "integrations.failing",
        "imports.runs",
    } <= names


def test_a_revocation_no_lock_acknowledged_is_listed_with_how_long(client, world):
    (alpha, residents, door, person), bravo, manager = world
    access_services.membership_remove(group=residents, user=person, actor=SYSTEM)
    settle()
    html = attention_html(client, manager)
    assert "Locks that have not applied their newest key map (1)" in html
    assert "Alpha front door: key map 2 not applied for 0 min (the lock runs 0)" in html
    assert "Alphahaus Court" in html
    assert "Bravo" not in html


def test_guest_passes_battery_denials_and_failing_events(client, world):
    (alpha, residents, door, person), bravo, manager = world
    Event.objects.filter(event_name="grant.created").update(
        processed_at=None, attempts=FAILING_AFTER_ATTEMPTS, last_error="RuntimeError: boom"
    )
    html = attention_html(client, manager)
    assert "Alpha Guest: guest pass on Alpha front door ends" in html and "(America/Chicago)" in html
    assert "Alpha front door: offline (last contact never), battery low (7 %)" in html
    assert "Alpha front door refused Alpha Guest (unknown-key)" in html
    assert f"grant.created: {FAILING_AFTER_ATTEMPTS} attempts failed, last: RuntimeError: boom" in html
    assert "Bravo" not in html


def test_nothing_to_look_at_says_so(client):
    manager = d.user_create(email="calm@example.test")
    prop = d.property_create(display_name="Calm Court")
    PermissionGrant.objects.create(user=manager, permission="owner", property_id=prop.pk)
    assert "Nothing needs attention." in attention_html(client, manager)
