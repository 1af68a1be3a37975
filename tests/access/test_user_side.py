"""The user side's shared work (compute.UserSide) and its writes (map_writes.MapWrites).

UserSide makes a group's entries, each entry's JSON and its part of the digest once per
refresh; these tests hold it to the plain definitions: the digest of `user_content`, the JSON
of `entry_json`, and a group's lines narrowed by each member's own window.
"""

import json
import uuid

import pytest

from apps.access import compute, map_writes
from apps.access.map_writes import MapWrites
from apps.access.models import UserAccessMap

RESIDENTS, UNIT, STAFF = "g-residents", "g-unit", "g-staff"
SCHEDULES = {"s-hours": {"windows": [{"days": ["mon"], "from": "08:00", "to": "18:00"}], "validFrom": None}}


def _line(kind, subject, schedule="", valid_from="", valid_until="", source="accessList:a:0"):
    return compute.LockEntry(kind, subject, schedule, valid_from, valid_until, source, "a")


LINES = {
    RESIDENTS: [
        ("lock-lobby", _line(compute.GROUP, RESIDENTS)),
        ("lock-club", _line(compute.GROUP, RESIDENTS, "s-hours", source="accessList:club:0")),
    ],
    UNIT: [("lock-unit", _line(compute.GROUP, UNIT, source="areaGroup:unit"))],
    STAFF: [("lock-lobby", _line(compute.GROUP, STAFF, valid_until="2027-01-01T00:00:00Z"))],
    "u-ann": [("lock-gym", _line(compute.USER, "u-ann", valid_from="2026-12-01T00:00:00Z", source="grant:1"))],
}


def _entries(side, user_id, groups, windows=None, blocked=False):
    return side.entries(user_id=user_id, group_ids=groups, blocked=blocked, group_windows=windows)


def test_members_share_a_group_but_each_gets_their_own_window_and_grants():
    side = compute.UserSide(LINES, SCHEDULES)
    ann = _entries(side, "u-ann", [RESIDENTS, UNIT])
    ben = _entries(side, "u-ben", [RESIDENTS], {RESIDENTS: ("", "2026-12-24T00:00:00Z")})
    cy = _entries(side, "u-cy", [RESIDENTS])

    assert [(e.lock_id, e.valid_from, e.valid_until, e.source) for e in ann] == [
        ("lock-club", "", "", "group:g-residents|accessList:club:0"),
        ("lock-gym", "2026-12-01T00:00:00Z", "", "grant:1"),
        ("lock-lobby", "", "", "group:g-residents|accessList:a:0"),
        ("lock-unit", "", "", "group:g-unit|areaGroup:unit"),
    ]
    # Ben's window narrows what Residents gives him, and not what it gives Cy after him
    assert {(e.lock_id, e.valid_until) for e in ben} == {
        ("lock-club", "2026-12-24T00:00:00Z"),
        ("lock-lobby", "2026-12-24T00:00:00Z"),
    }
    assert {(e.lock_id, e.valid_until) for e in cy} == {("lock-club", ""), ("lock-lobby", "")}
    assert _entries(side, "u-ann", [RESIDENTS, UNIT], blocked=True) == ()
    # a window that ends before the line starts leaves nothing of it
    staff_side = compute.UserSide(LINES, SCHEDULES)
    assert _entries(staff_side, "u-dee", [STAFF], {STAFF: ("2027-02-01T00:00:00Z", "")}) == ()
    # the one-person helper gives what a shared side gives
    assert (
        compute.user_lines(user_id="u-ann", group_ids=[RESIDENTS, UNIT], lines_by_subject=LINES, blocked=False) == ann
    )


def test_digest_and_json_are_those_of_the_plain_definitions_for_every_person():
    side = compute.UserSide(LINES, SCHEDULES)
    people = [
        ("u-ann", [RESIDENTS, UNIT], None),
        ("u-ben", [RESIDENTS, STAFF], {STAFF: ("2026-12-10T00:00:00Z", "")}),
        ("u-cy", [UNIT], None),
        ("u-nobody", [], None),
    ]
    for _ in range(2):  # the second round is served from what the first kept
        for user_id, groups, windows in people:
            entries = _entries(side, user_id, groups, windows)
            assert side.digest(entries) == compute.digest(compute.user_content(entries, SCHEDULES))
            assert side.entries_json(entries) == json.dumps([compute.entry_json(e) for e in entries])
    # a schedule's content is part of the digest: editing it moves the digest of its users only
    edited = compute.UserSide(LINES, {"s-hours": {**SCHEDULES["s-hours"], "validFrom": "2027-01-01T00:00:00Z"}})
    ann, unit_only = _entries(side, "u-ann", [RESIDENTS, UNIT]), _entries(side, "u-cy", [UNIT])
    assert edited.digest(ann) != side.digest(ann)
    assert edited.digest(unit_only) == side.digest(unit_only)


@pytest.mark.django_db
@pytest.mark.parametrize("count", [3, map_writes.COPY_FROM], ids=["upserts", "copy-size"])
def test_map_writes_insert_and_overwrite_by_user_and_property(count):
    """Below COPY_FROM maps the writes are upserts; from it, PostgreSQL takes them by COPY."""
    property_id, other_property = uuid.uuid4(), uuid.uuid4()
    users = [str(uuid.uuid4()) for _ in range(count)]
    UserAccessMap.objects.create(user_id=users[0], property_id=other_property, entries=[], version=7, digest="other")

    def write(version):
        writes = MapWrites(property_id)
        for index, user_id in enumerate(users):
            entries = [{"lockId": f"lock-{index}", "scheduleId": None, "source": f"v{version}"}]
            writes.add(user_id, entries_json=json.dumps(entries), version=version, digest=f"d{version}-{index}")
        writes.flush()
        assert writes.rows == []

    write(1)
    write(2)  # the same people again: overwritten in place, not duplicated
    stored = {str(m.user_id): m for m in UserAccessMap.objects.filter(property_id=property_id)}
    assert set(stored) == set(users)
    for index, user_id in enumerate(users):
        assert stored[user_id].entries == [{"lockId": f"lock-{index}", "scheduleId": None, "source": "v2"}]
        assert (stored[user_id].version, stored[user_id].digest) == (2, f"d2-{index}")
        assert stored[user_id].computed_at is not None
    other = UserAccessMap.objects.get(user_id=users[0], property_id=other_property)
    assert (other.version, other.digest) == (7, "other")  # another property's map is untouched
