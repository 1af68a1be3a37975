"""A server restored from a backup never leaves a phone behind (PROTOCOL.md §9.6): the phone
holds a map version the restored server never recorded, and still gets the next map (a
higher version, which it accepts) instead of a map it must refuse as a rollback."""

import io

import pytest
from django.core.management import call_command

from apps.access import services as access_services
from apps.core.actors import SYSTEM
from tests.devices.conftest import person_client
from tests.devices.factories import device_provision
from tests.factories import directory as d
from tests.factories.access import process_events

pytestmark = pytest.mark.django_db(transaction=True)


def _sync(client, phone) -> dict:
    response = client.put(
        f"/api/v1/users/{phone.user_id}/devices/{phone.user_device_id}/sync", phone.sync_body(), format="json"
    )
    assert response.status_code == 200, response.content
    return response.json()


def test_a_phone_ahead_of_a_restored_server_gets_a_newer_map(world, tmp_path):
    _, phone = device_provision(world.alice)
    client = person_client(world.alice)
    phone.receive(_sync(client, phone))
    out = io.StringIO()
    call_command("dumpdata", "--all", "--format=json", stdout=out, exclude=["contenttypes", "auth.permission"])
    backup = tmp_path / "backup.json"
    backup.write_text(out.getvalue())

    # after the backup: alice leaves the residents; her phone takes the map without the tower
    access_services.membership_remove(group=d.property_group(world.prop_a), user=world.alice, actor=SYSTEM)
    process_events()
    phone.receive(_sync(client, phone))
    held = int(phone.map_version)
    assert phone.lock_ids() == set()

    call_command("flush", "--no-input")
    call_command("loaddata", str(backup))

    # the restored server has her as a resident again, and a lower version than her phone holds
    opened = phone.receive(_sync(person_client(world.alice), phone))
    assert opened is not None, "the phone got a map it could accept"
    assert int(phone.map_version) == held + 1
    assert str(world.tower_door.pk) in phone.lock_ids()
