"""Event handlers of the devices app: a deleted person's phones are deprovisioned, and the
changes that may alter a device's access map (PROTOCOL.md §7.5) ask for it to be rebuilt.

A device map holds the person's derived access (apps.access, refreshed by its handlers of the
same event, in the same transaction), the schedules, locks (area, kid) and property keys and
time zones those name. Each handler marks the maps the change may reach as behind and enqueues
their build after commit (services.maps.device_maps_request): the build reads settled derived
access, and a sync meanwhile builds inline. Idempotent: a repeat rebuilds equal content, which
moves no version.
"""

from apps.access.handlers import STRUCTURAL
from apps.core.actors import SYSTEM
from apps.devices.services import device_maps_request, user_devices_deprovision
from apps.events.registry import event_handler, event_source_register

# Events whose property_id names the property whose people's maps may change.
PROPERTY_EVENTS = tuple(name for name in STRUCTURAL if name != "user.deleted") + (
    "lock.provisioned",
    "lock.deprovisioned",
    "lock.updated",
    "property.updated",
    "property.deleted",
)
# One person (`user_id`), or a batch of one property (`payload.userIds`, `payload.members`).
USER_EVENTS = (
    "group.member_added",
    "group.member_removed",
    "group.member_window_set",
    "group.members_added",
    "group.members_removed",
    "user.updated",
    "device.provisioned",
)
KEY_EVENTS = ("key.registered", "key.rotated", "key.deactivated")
# property.updated fields no device map shows.
PROPERTY_FIELDS_WITHOUT_MAPS = frozenset({"accessManagerIds", "address", "displayName", "ownerId"})


def user_deleted(event) -> None:
    """`user.deleted`: deprovision their devices (idempotent), so their keys leave every lock."""

    user_devices_deprovision(user_id=event.user_id, actor=SYSTEM)


def property_changed(event) -> None:
    changed = set(event.payload.get("changed") or ())
    if event.event_name == "property.updated" and changed and changed <= PROPERTY_FIELDS_WITHOUT_MAPS:
        return
    if event.property_id is not None:
        device_maps_request(property_ids=[event.property_id])


def users_changed(event) -> None:
    users = {event.user_id} if event.user_id is not None else set()
    users |= set(event.payload.get("userIds") or ())
    users |= {member["userId"] for member in event.payload.get("members", ()) if member.get("userId")}
    device_maps_request(user_ids=users)


def key_changed(event) -> None:
    """A propertyKey rotated (its maps announce the new key) or a lock's key came or went (its
    kid is in the maps): the property's people. A device's own keys come and go with the device."""
    if event.property_id is not None and event.payload.get("ownerType") != "userDevice":
        device_maps_request(property_ids=[event.property_id])


def register() -> None:
    event_source_register("device")
    event_handler("user.deleted")(user_deleted)
    for name in PROPERTY_EVENTS:
        event_handler(name)(property_changed)
    for name in USER_EVENTS:
        event_handler(name)(users_changed)
    for name in KEY_EVENTS:
        event_handler(name)(key_changed)
