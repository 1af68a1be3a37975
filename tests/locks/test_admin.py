"""Staff admin for the lock protocol: lock columns (signed map applied vs newest, last sync,
firmware runs vs must run), filters, access logs with gaps, and the key-map changes page
(provable revocation)."""

import re

import pytest

from apps.core.actors import SYSTEM
from apps.events.models import Event
from apps.locks.models import KeyMapRequest
from tests.factories import directory as d
from tests.locks.conftest import Phone, settle

pytestmark = pytest.mark.django_db

LOCKS = "/admin/locks/lock/"


def _text(response) -> str:
    assert response.status_code == 200, response.status_code
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", response.content.decode()))


def test_lock_list_shows_acknowledged_vs_newest_last_sync_and_firmware(staff_client, world, settings, tmp_path):
    from django.core.files.base import ContentFile

    from apps.firmware import services as firmware_services

    settings.STORAGES = {
        **settings.STORAGES,
        "firmware": {"BACKEND": "django.core.files.storage.FileSystemStorage", "OPTIONS": {"location": str(tmp_path)}},
    }
    Phone.provision(world.alice)
    d.member_add(world.residents, world.alice)
    settle()
    listing = _text(staff_client.get(LOCKS))
    assert "1 / 2 pending" in listing or "0 / 2 pending" in listing
    assert "never" in listing

    world.sync()
    world.sync()
    version, _ = firmware_services.firmware_version_upload(
        version="2.1.0", upload=ContentFile(b"image", name="fw.bin"), actor=SYSTEM
    )
    firmware_services.firmware_assign(firmware_version=version, scope="property", prop=world.prop, actor=SYSTEM)
    listing = _text(staff_client.get(LOCKS))
    assert "2 / 2" in listing and "2 / 2 pending" not in listing and "1.0.0 → 2.1.0" in listing
    assert "never" not in listing
    assert "Front door" not in _text(staff_client.get(LOCKS, {"key_map": "pending"}))

    page = _text(staff_client.get(f"{LOCKS}{world.lock.lock_id}/change/"))
    assert "Syncing with Keyhouse" in page and world.lock.kid in page
    assert "§" not in page and "(kid)" not in page  # no protocol jargon on the lock page (issue 16)


def test_access_logs_and_gaps_are_visible(staff_client, world):
    world.lock.logs = [
        {"sequence": s, "accessDate": 1_800_000_000 + s, "result": "denied", "reason": "unknown-key"} for s in (1, 4)
    ]
    world.sync()
    page = _text(staff_client.get(f"{LOCKS}{world.lock.lock_id}/change/"))
    assert "2–3" in page
    assert "Front door" in _text(staff_client.get(LOCKS, {"gaps": "yes"}))
    listing = _text(staff_client.get("/admin/locks/lockaccesslog/", {"denied": "yes"}))
    assert "unknown-key" in listing
    assert staff_client.get("/admin/locks/lockaccesslog/add/").status_code == 403


def test_key_map_changes_show_acknowledged_and_pending_locks(staff_client, world):
    Phone.provision(world.alice)
    d.member_add(world.residents, world.alice)
    settle()
    assert KeyMapRequest.objects.filter(reason="group.member_added").exists()
    page = _text(staff_client.get("/admin/locks/keymaprequest/", {"reason": "group.member_added"}))
    assert "0 of 1 locks" in page and "Front door" in page
    change = KeyMapRequest.objects.get(reason="group.member_added")
    event = Event.objects.get(pk=change.event_id)
    # the change's revocation latency: its event to the signed map stored by the build
    assert change.signed_after_ms is not None
    assert change.signed_after_ms <= (change.build.finished_at - event.created_at).total_seconds() * 1000 + 1
    assert f"signed after {change.signed_after_ms:,} ms" in page
    world.sync()
    world.sync()
    page = _text(staff_client.get("/admin/locks/keymaprequest/", {"reason": "group.member_added"}))
    assert "1 of 1 locks" in page


def test_lock_list_shows_health_and_filters_locks_needing_attention(staff_client):
    from django.utils import timezone

    from apps.locks.services import lock_create, lock_health_record

    prop = d.property_create()
    now = timezone.now()
    gate = lock_create(display_name="Car park gate", prop=prop, actor=SYSTEM)
    door = lock_create(display_name="Bike store", prop=prop, actor=SYSTEM)
    lock_create(display_name="Loft hatch", prop=prop, actor=SYSTEM)
    lock_health_record(
        lock=gate, source="parqex", actor=SYSTEM, battery_level=12, door_state="open", last_contact_at=now
    )
    lock_health_record(
        lock=door, source="keyhouse", actor=SYSTEM, battery_level=80, door_state="closed", last_contact_at=now
    )

    listing = _text(staff_client.get(LOCKS))
    assert "12 % low" in listing and "80 %" in listing and "no report" in listing
    attention = _text(staff_client.get(LOCKS, {"attention": "yes"}))
    assert "Car park gate" in attention and "Bike store" not in attention and "Loft hatch" not in attention
    assert "Loft hatch" in _text(staff_client.get(LOCKS, {"attention": "unknown"}))

    from apps.locks.services import lock_health_stale_set

    lock_health_stale_set(lock_ids=[door.pk], stale=True, actor=SYSTEM)
    attention = _text(staff_client.get(LOCKS, {"attention": "yes"}))
    assert "Bike store" in attention and "stale: its integration is failing" in attention
