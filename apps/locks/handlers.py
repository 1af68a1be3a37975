"""Event handlers: which changes ask for new key maps (registered in LocksConfig.ready).

Key maps list device keys per person, so besides the structural changes that move a lock's
derived lines (apps/access/handlers.py), membership changes, people leaving, blocks and device
keys coming or going matter too. Each handler only records a KeyMapRequest per property, naming
the locks the change can alter, and enqueues the build after commit:

- a membership change: the locks whose lines name the group (lines name groups, not members);
- a person's devices or account: the locks whose lines name them or one of their groups;
- a structural change: none by name; the build takes every lock whose access lines moved
  (their digest differs from the one its map was computed from), whatever order the access
  handlers of the same event ran in: the build runs after they committed;
- a property key rotation or a property change (time zone): every lock of the property.

Idempotent: a repeat only asks for a build that finds nothing new to sign.
"""

from apps.access.handlers import STRUCTURAL
from apps.access.models import AccessBlock, AccessGrant, Membership, UserAccessMap
from apps.access.selectors import lock_ids_naming
from apps.events.registry import event_handler
from apps.locks.services import key_maps_request

# Events whose property_id names the one property concerned.
STRUCTURAL_EVENTS = tuple(name for name in STRUCTURAL if name != "user.deleted") + (
    "lock.provisioned",
    "lock.deprovisioned",
)
# One pair (`user_group_id`), or a batch of pairs of one property (`payload.members`, imports).
MEMBERSHIP_EVENTS = (
    "group.member_added",
    "group.member_removed",
    "group.member_window_set",
    "group.members_added",
    "group.members_removed",
)
PROPERTY_EVENTS = STRUCTURAL_EVENTS + MEMBERSHIP_EVENTS + ("property.updated",)  # its time zone places schedules
# Events about one person: every property where a lock line can reach them.
USER_EVENTS = ("user.deleted", "user.updated", "device.provisioned", "device.deprovisioned")
# Key events: a property key rotation (maps re-signed, new key announced), a person's access key.
KEY_EVENTS = ("key.registered", "key.rotated", "key.deactivated")
TRACKED_EVENTS = frozenset(PROPERTY_EVENTS + USER_EVENTS + ("key.rotated",))
# property.updated fields that change no key map (who manages the property, its name).
PROPERTY_FIELDS_WITHOUT_MAPS = frozenset({"accessManagerIds", "address", "displayName", "ownerId"})


def properties_of_user(user_id) -> set[str]:
    """Properties where a lock's lines may name this person (maps, grants, blocks, groups)."""

    found = {str(p) for p in UserAccessMap.objects.filter(user_id=user_id).values_list("property_id", flat=True)}
    found |= {str(p) for p in AccessGrant.objects.filter(user_id=user_id).values_list("property_id", flat=True)}
    found |= {str(p) for p in AccessBlock.objects.filter(user_id=user_id).values_list("property_id", flat=True)}
    found |= {
        str(p) for p in Membership.objects.filter(user_id=user_id).values_list("user_group__property_id", flat=True)
    }
    return found


def structure_changed(event) -> None:
    """The locks whose lines moved (found by the build), and the event's own lock: a lock moving
    between properties may keep equal lines yet needs its new property's map."""
    if event.property_id is not None:
        locks = [str(event.lock_id)] if event.lock_id else []
        key_maps_request(lock_ids={event.property_id: locks}, reason=event.event_name, event=event)


def membership_changed(event) -> None:
    if event.property_id is None:
        return
    groups = {str(event.user_group_id)} if event.user_group_id is not None else set()
    groups |= {member["userGroupId"] for member in event.payload.get("members", ())}
    locks = set()
    if groups:
        named = lock_ids_naming(group_ids=sorted(groups), property_ids=[event.property_id])
        locks = named.get(str(event.property_id), set())
    key_maps_request(lock_ids={event.property_id: locks}, reason=event.event_name, event=event)


def property_changed(event) -> None:
    if event.property_id is None:
        return
    changed = set(event.payload.get("changed") or ())
    if changed and changed <= PROPERTY_FIELDS_WITHOUT_MAPS:
        key_maps_request(lock_ids={event.property_id: ()}, reason=event.event_name, event=event)
    else:
        key_maps_request(property_ids=[event.property_id], reason=event.event_name, event=event)


def user_changed(event) -> None:
    if event.user_id is not None:
        properties = properties_of_user(event.user_id)
        named = lock_ids_naming(user_ids=[event.user_id], property_ids=properties)
        scopes = {property_id: named.get(property_id, set()) for property_id in properties}
        key_maps_request(lock_ids=scopes, reason=event.event_name, event=event)


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
    for name in STRUCTURAL_EVENTS:
        event_handler(name)(structure_changed)
    for name in MEMBERSHIP_EVENTS:
        event_handler(name)(membership_changed)
    event_handler("property.updated")(property_changed)
    for name in USER_EVENTS:
        event_handler(name)(user_changed)
    for name in KEY_EVENTS:
        event_handler(name)(key_changed)
