"""A membership window narrows what a group gives one member (pure compute)."""

from datetime import timedelta

import pytest
from django.utils import timezone

from apps.access import compute
from apps.access import services as access_services
from apps.access.models import UserAccessMap
from apps.core.actors import SYSTEM
from apps.core.exceptions import ApplicationError

LOCK, GROUP_ID, USER_ID = "lock-1", "group-1", "user-1"


def _lines(valid_from="", valid_until=""):
    line = compute.LockEntry(compute.GROUP, GROUP_ID, "sched-1", valid_from, valid_until, "accessList:a:0", "a")
    return {GROUP_ID: [(LOCK, line)]}


def _entries(lines, window):
    return compute.user_lines(
        user_id=USER_ID,
        group_ids=[GROUP_ID],
        lines_by_subject=lines,
        blocked=False,
        group_windows={GROUP_ID: window} if window is not None else None,
    )


def test_without_a_window_the_member_gets_the_lines_own_validity():
    (entry,) = _entries(_lines(), None)
    assert (entry.lock_id, entry.schedule_id, entry.valid_from, entry.valid_until) == (LOCK, "sched-1", "", "")


def test_a_window_bounds_an_unbounded_line_and_keeps_its_schedule():
    (entry,) = _entries(_lines(), ("2026-12-01T00:00:00Z", "2026-12-05T07:30:00Z"))
    assert (entry.schedule_id, entry.valid_from, entry.valid_until) == (
        "sched-1",
        "2026-12-01T00:00:00Z",
        "2026-12-05T07:30:00Z",
    )


def test_the_later_start_and_the_earlier_end_win():
    lines = _lines("2026-12-03T00:00:00Z", "2026-12-10T00:00:00Z")
    (entry,) = _entries(lines, ("2026-12-01T00:00:00Z", "2026-12-05T07:30:00Z"))
    assert (entry.valid_from, entry.valid_until) == ("2026-12-03T00:00:00Z", "2026-12-05T07:30:00Z")


def test_a_window_that_does_not_overlap_the_line_gives_nothing():
    lines = _lines("2026-12-06T00:00:00Z", "")
    assert _entries(lines, ("", "2026-12-05T07:30:00Z")) == ()


def test_a_window_changes_the_users_content_digest():
    plain = compute.digest(compute.user_content(_entries(_lines(), None), {}))
    bounded = compute.digest(compute.user_content(_entries(_lines(), ("", "2026-12-05T07:30:00Z")), {}))
    assert plain != bounded


@pytest.mark.django_db
def test_a_member_whose_window_ends_is_denied_then_without_any_recompute():
    from apps.access import selectors
    from tests.factories import access as a
    from tests.factories import directory as d

    prop = d.property_create(display_name="Gym house")
    members = d.group_create(prop, display_name="Gym members")
    gym = d.area_create(prop, display_name="Gym", access_list=[{"accessType": "group", "userGroupId": str(members.pk)}])
    door, ann = a.lock_in(gym), d.user_create(display_name="Ann")
    d.member_add(members, ann)
    until = timezone.now() + timedelta(hours=1)
    access_services.membership_window_set(group=members, user=ann, valid_from=None, valid_until=until, actor=SYSTEM)
    a.process_events()

    (entry,) = UserAccessMap.objects.get(user_id=ann.pk, property_id=prop.pk).entries
    assert entry["lockId"] == str(door.pk) and entry["validUntil"] is not None

    before = selectors.access_explain(prop=prop, user=ann, lock=door, at=until - timedelta(minutes=1))
    after = selectors.access_explain(prop=prop, user=ann, lock=door, at=until + timedelta(minutes=1))
    assert before["allowed"] and not after["allowed"]
    assert any("expired at" in step for path in after["paths"] for step in path["steps"])

    with pytest.raises(ApplicationError, match="validUntil"):
        access_services.membership_window_set(
            group=members, user=ann, valid_from=until, valid_until=until, actor=SYSTEM
        )
