"""ParqEx mapping (pure): the seed's doors as locks, battery, times, relationships, refusals."""

import datetime as dt

import pytest

from apps.integrations.mapping import MappingError
from apps.integrations.parqex import mapping
from apps.integrations.parqex.fixture import seed_sync


def _doors(**kw):
    return mapping.doors_from_sync(seed_sync()["devices"], **kw)


def test_the_seed_maps_to_two_doors_keeping_controller_fields():
    kitty, last = _doors()
    assert kitty.external_id == "70fc7ebd63d841d9a9f06ff815be1e7c" and kitty.display_name == "Kitty"
    assert kitty.controller.external_id == "9d9e5e0e093a06d5f16e1116d108d0c7"
    assert kitty.controller.blackbox_code == "20000c2a6908848d" and kitty.controller.software_version == "0"
    assert kitty.entity_number == 1 and kitty.door_state == "open" and kitty.active is True
    assert kitty.controller.entities_controlled == 3  # as the remote says, though one door is listed
    assert kitty.controller.time_before_door_open_alert == 900
    assert last.display_name == "Last Door!"  # trailing space trimmed
    assert last.auto_close_enabled is True and last.auto_close_delay_seconds == 3600
    assert (kitty.user_relationship, last.user_relationship) == ("Has Access", "Owner")


def test_battery_only_with_a_bluetooth_sensor_else_unknown():
    kitty, last = _doors()
    assert kitty.battery_level is None  # bluetooth_sensor false: unknown, not 0 %
    assert last.battery_level == 98


def test_zoneless_times_are_utc_by_default_or_the_accounts_zone():
    kitty, _ = _doors()
    assert kitty.last_toggled == dt.datetime(2020, 12, 18, 18, 32, 25, tzinfo=dt.UTC)
    assert kitty.controller.last_contact == dt.datetime(2020, 12, 18, 18, 47, 25, tzinfo=dt.UTC)
    kitty_ny, _ = _doors(site_tz="America/New_York")
    assert kitty_ny.last_toggled == dt.datetime(2020, 12, 18, 23, 32, 25, tzinfo=dt.UTC)


def test_inactive_door_or_controller_is_inactive():
    body = seed_sync()
    body["devices"][0]["doors"][0]["active"] = False
    body["devices"][1]["active"] = False
    kitty, last = mapping.doors_from_sync(body["devices"])
    assert kitty.active is False and last.active is False


def test_relationship_labels_and_raw_others():
    assert mapping.relationship_label("ADMIN") == "Admin"
    assert mapping.relationship_label("has access") == "Has Access"
    assert mapping.relationship_label("Guest Pass") == "Guest Pass"


@pytest.mark.parametrize(
    ("field", "value", "named"),
    [
        ("last_toggled", "18/12/2020", "doors[0].last_toggled"),
        ("bluetooth_sensor", "yes", "doors[0].bluetooth_sensor"),
        ("id", "", "doors[0].id"),
        ("entity_number", -1, "doors[0].entity_number"),
    ],
)
def test_a_bad_door_is_refused_by_field_and_only_that_door(field, value, named):
    body = seed_sync()
    body["devices"][0]["doors"][0][field] = value
    bad, good = mapping.doors_from_sync(body["devices"])
    assert isinstance(bad, MappingError) and bad.field == f"devices[0].{named}"
    assert good.display_name == "Last Door!"


def test_a_battery_above_100_with_a_sensor_is_refused():
    body = seed_sync()
    body["devices"][1]["doors"][0]["bluetooth_sensor_battery_level"] = 140
    assert isinstance(mapping.doors_from_sync(body["devices"])[1], MappingError)


def test_unknown_state_and_digest_changes_with_any_field():
    body = seed_sync()
    first = mapping.doors_from_sync(body["devices"])[0]
    body["devices"][0]["doors"][0]["state"] = "JAMMED"
    body["devices"][0]["software_version"] = "2"
    second = mapping.doors_from_sync(body["devices"])[0]
    assert second.door_state == "unknown" and second.digest != first.digest
    assert mapping.doors_from_sync(seed_sync()["devices"])[0].digest == first.digest
