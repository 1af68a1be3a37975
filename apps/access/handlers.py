"""Event handlers: recompute only what an event touches (registered in AccessConfig.ready).

- membership changes: that person's access map (a batch's: those people's, in one refresh;
  lock lines name groups, so no lock moves);
- structural changes (access lists, moves, schedules, grants, blocks, lock installs, deleted
  groups and areas): every lock line of the property, then the people the changed locks name.

Both are idempotent: running them again computes the same content and moves no version.
"""

from apps.access import derive
from apps.access.models import AccessGrant, UserAccessMap
from apps.events.registry import event_handler

STRUCTURAL = (
    "area.created",
    "area.updated",
    "area.moved",
    "area.deleted",
    "group.deleted",
    "schedule.updated",
    "schedule.deleted",
    "grant.created",
    "grant.revoked",
    "grant.expired",
    "block.created",
    "block.deleted",
    "lock.installed",
    "lock.uninstalled",
    "user.deleted",
)


def membership_changed(event) -> None:
    derive.users_refresh(property_id=event.property_id, user_ids=[str(event.user_id)])


def members_changed(event) -> None:
    """A batch of membership changes (`group.members_added` / `_removed`): one refresh for all."""
    derive.users_refresh(property_id=event.property_id, user_ids=event.payload.get("userIds", []))


def structure_changed(event) -> None:
    if event.property_id is None:
        return
    people = [str(event.user_id)] if event.user_id else []
    people += event.payload.get("memberIds", [])
    derive.property_refresh(property_id=event.property_id, user_ids=people)


def user_deleted(event) -> None:
    properties = set(UserAccessMap.objects.filter(user_id=event.user_id).values_list("property_id", flat=True))
    properties |= set(AccessGrant.objects.filter(user_id=event.user_id).values_list("property_id", flat=True))
    for property_id in sorted(properties):
        derive.property_refresh(property_id=property_id, user_ids=[str(event.user_id)])


def property_deleted(event) -> None:
    derive.property_clear(property_id=event.property_id)


def register() -> None:
    event_handler("group.member_added")(membership_changed)
    event_handler("group.member_removed")(membership_changed)
    event_handler("group.member_window_set")(membership_changed)
    event_handler("group.members_added")(members_changed)
    event_handler("group.members_removed")(members_changed)
    for name in STRUCTURAL:
        if name != "user.deleted":
            event_handler(name)(structure_changed)
    event_handler("user.deleted")(user_deleted)
    event_handler("property.deleted")(property_deleted)
