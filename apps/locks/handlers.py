"""Event handlers: which changes ask for new key maps (registered in LocksConfig.ready).

Key maps list device keys per person, so besides the structural changes that move a lock's
derived lines (apps/access/handlers.py), membership changes, people leaving, blocks and device
keys coming or going matter too. Each handler only records a KeyMapRequest per property and
enqueues the build after commit; the build reads the derived lines the access handlers of the
same event wrote, whatever order the handlers ran in. Idempotent: a repeat only asks for a
build that finds nothing new to sign.
"""

from apps.access.handlers import STRUCTURAL
from apps.access.models import AccessBlock, AccessGrant, Membership, UserAccessMap
from apps.events.registry import event_handler
from apps.locks.services import key_maps_request

# Events whose property_id names the one property concerned.
PROPERTY_EVENTS = tuple(name for name in STRUCTURAL if name != "user.deleted") + (
    "group.member_added",
    "group.member_removed",
    "group.members_added",
    "group.members_removed",
    "property.updated",  # its time zone places every schedule
    "lock.provisioned",
    "lock.deprovisioned",
)
# Events about one person: every property where a lock line can reach them.
USER_EVENTS = ("user.deleted", "user.updated", "device.provisioned", "device.deprovisioned")
# Key events: a property key rotation (maps re-signed, new key announced), a person's access key.
KEY_EVENTS = ("key.registered", "key.rotated", "key.deactivated")
TRACKED_EVENTS = frozenset(PROPERTY_EVENTS + USER_EVENTS + ("key.rotated",))


def properties_of_user(user_id) -> set[str]:
    """Properties where a lock's lines may name this person (maps, grants, blocks, groups)."""

    found = {str(p) for p in UserAccessMap.objects.filter(user_id=user_id).values_list("property_id", flat=True)}
    found |= {str(p) for p in AccessGrant.objects.filter(user_id=user_id).values_list("property_id", flat=True)}
    found |= {str(p) for p in AccessBlock.objects.filter(user_id=user_id).values_list("property_id", flat=True)}
    found |= {
        str(p) for p in Membership.objects.filter(user_id=user_id).values_list("user_group__property_id", flat=True)
    }
    return found


def property_changed(event) -> None:
    if event.property_id is not None:
        key_maps_request(property_ids=[event.property_id], reason=event.event_name, event=event)


def user_changed(event) -> None:
    if event.user_id is not None:
        key_maps_request(property_ids=properties_of_user(event.user_id), reason=event.event_name, event=event)


def key_changed(event) -> None:
    """A propertyKey rotated (re-sign, announce the new key) or an access key held by a person
    directly (owner type `user`) came or went."""
    owner_type, purpose = event.payload.get("ownerType"), event.payload.get("purpose")
    if purpose == "propertyKey" and event.property_id is not None and event.event_name == "key.rotated":
        key_maps_request(property_ids=[event.property_id], reason=event.event_name, event=event)
    elif purpose == "deviceAccessKey" and owner_type == "user" and event.user_id is not None:
        user_changed(event)
    # a device's keys come and go with the device: device.provisioned / device.deprovisioned


def register() -> None:
    for name in PROPERTY_EVENTS:
        event_handler(name)(property_changed)
    for name in USER_EVENTS:
        event_handler(name)(user_changed)
    for name in KEY_EVENTS:
        event_handler(name)(key_changed)
