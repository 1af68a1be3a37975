"""Precedence: lock > nearest area > containing areas outwards > property > global.

Every one of the 32 combinations of assignments at (lock, its area, the parent area, the
property, global) is checked through the pure function and through the selectors, and the
area and property answers (what a lock there without its own assignment runs) with them.
"""

import itertools

import pytest

from apps.core.actors import SYSTEM
from apps.firmware import precedence, selectors, services
from apps.locks import selectors as lock_selectors
from apps.locks import services as lock_services
from tests.factories import directory as d
from tests.firmware.conftest import firmware_upload

SLOTS = ("lock", "area", "parent", "property", "global")
COMBINATIONS = list(itertools.product([False, True], repeat=len(SLOTS)))


def _expected(assigned: dict, slots=SLOTS) -> str | None:
    return next((f"{slot}-1" for slot in slots if assigned[slot]), None)


def _ids(combination) -> str:
    return "+".join(slot for slot, on in zip(SLOTS, combination, strict=True) if on) or "nothing"


@pytest.mark.parametrize("combination", COMBINATIONS, ids=[_ids(c) for c in COMBINATIONS])
def test_pure_precedence(combination):
    assigned = dict(zip(SLOTS, combination, strict=True))
    targets = {"lock": ("lock", "L"), "area": ("area", "A"), "parent": ("area", "P"), "property": ("property", "H")}
    targets["global"] = ("global", None)
    assignments = {targets[slot]: f"{slot}-1" for slot, on in assigned.items() if on}
    where = {"lock_id": "L", "area_id": "A", "ancestor_ids": ["P"], "property_id": "H"}
    assert precedence.required_version(assignments, **where) == _expected(assigned)


@pytest.fixture
def world(db):
    prop = d.property_create()
    parent = d.area_create(prop, area_type="common", display_name="Floor 1")
    area = d.area_create(prop, parent=parent, display_name="Flat 1a")
    lock = lock_services.lock_create(display_name="Flat 1a door", prop=prop, actor=SYSTEM)
    lock = lock_services.lock_install(lock=lock, area=area, actor=SYSTEM)
    versions = {slot: firmware_upload(f"{slot}-1", slot.encode()) for slot in SLOTS}
    return prop, parent, area, lock, versions


def _assign(world, slot):
    prop, parent, area, lock, versions = world
    target = {
        "lock": {"scope": "lock", "lock": lock},
        "area": {"scope": "area", "area": area},
        "parent": {"scope": "area", "area": parent},
        "property": {"scope": "property", "prop": prop},
        "global": {"scope": "global"},
    }[slot]
    services.firmware_assign(firmware_version=versions[slot], actor=SYSTEM, **target)


@pytest.mark.parametrize("combination", COMBINATIONS, ids=[_ids(c) for c in COMBINATIONS])
def test_selectors_follow_the_precedence(world, combination, django_assert_max_num_queries):
    prop, parent, area, lock, _ = world
    assigned = dict(zip(SLOTS, combination, strict=True))
    for slot, on in assigned.items():
        if on:
            _assign(world, slot)
    lock.refresh_from_db()

    assert selectors.required_firmware_version(lock=lock) == _expected(assigned)
    assert selectors.required_firmware_version_for_area(area=area) == _expected(assigned, SLOTS[1:])
    assert selectors.required_firmware_version_for_area(area=parent) == _expected(assigned, SLOTS[2:])
    assert selectors.required_firmware_version_for_property(property_id=prop.pk) == _expected(assigned, SLOTS[3:])
    with django_assert_max_num_queries(1):
        page = selectors.required_firmware_versions_for_areas([area, parent])
    assert page == {area.pk: _expected(assigned, SLOTS[1:]), parent.pk: _expected(assigned, SLOTS[2:])}
    (row,) = selectors.lock_firmware_table(
        property_id=prop.pk, locks=lock_selectors.locks_with_areas(property_id=prop.pk)
    )
    assert row.required == _expected(assigned)


def test_nearest_containing_area_wins_over_farther_ones(db):
    prop = d.property_create()
    building = d.area_create(prop, display_name="Building")
    floor = d.area_create(prop, parent=building, display_name="Floor")
    flat = d.area_create(prop, parent=floor, display_name="Flat")
    lock = lock_services.lock_install(
        lock=lock_services.lock_create(display_name="Door", prop=prop, actor=SYSTEM), area=flat, actor=SYSTEM
    )
    old, new = firmware_upload("1.0", b"old"), firmware_upload("2.0", b"new")
    services.firmware_assign(firmware_version=old, scope="area", area=building, actor=SYSTEM)
    assert selectors.required_firmware_version(lock=lock) == "1.0"
    services.firmware_assign(firmware_version=new, scope="area", area=floor, actor=SYSTEM)
    assert selectors.required_firmware_version(lock=lock) == "2.0"
    # Moving the flat out of the floor (to the top level) leaves only the property chain.
    d.area_move(flat, None)
    lock.refresh_from_db()
    assert selectors.required_firmware_version(lock=lock) is None


def test_lock_outside_any_area_or_property(db):
    prop = d.property_create()
    loose = lock_services.lock_create(display_name="In the box", prop=prop, actor=SYSTEM)
    orphan = lock_services.lock_create(display_name="No property", actor=SYSTEM)
    everywhere, here = firmware_upload("9", b"g"), firmware_upload("8", b"p")
    services.firmware_assign(firmware_version=everywhere, scope="global", actor=SYSTEM)
    services.firmware_assign(firmware_version=here, scope="property", prop=prop, actor=SYSTEM)
    assert selectors.required_firmware_version(lock=loose) == "8"
    assert selectors.required_firmware_version(lock=orphan) == "9"
    services.firmware_assign(firmware_version=here, scope="lock", lock=orphan, actor=SYSTEM)
    assert selectors.required_firmware_version(lock=orphan) == "8"


def test_download_rule_for_locks_is_the_required_version(db):
    prop = d.property_create()
    lock = lock_services.lock_create(display_name="Door", prop=prop, actor=SYSTEM)
    required, other = firmware_upload("3.1", b"a"), firmware_upload("3.0", b"b")
    assert not selectors.firmware_download_allowed_for_lock(lock=lock, firmware_version=required)
    services.firmware_assign(firmware_version=required, scope="property", prop=prop, actor=SYSTEM)
    assert selectors.firmware_download_allowed_for_lock(lock=lock, firmware_version=required)
    assert not selectors.firmware_download_allowed_for_lock(lock=lock, firmware_version=other)
