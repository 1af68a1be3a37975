"""PURE: ParqEx `/sync` records -> typed Keyhouse values (docs/INTEGRATIONS.md "ParqEx mapping").

Each door becomes a `DoorValues` (a lock, linked by the door's `id`), carrying what Keyhouse
keeps of its controller; a door that cannot be read is a `MappingError(field, value, reason)`
naming the field, and only that door is skipped.

Times: the seed's `YYYY-MM-DD HH:MM:SS` has no zone; it is wall-clock time in `site_tz` (the
account's setting; UTC by default). Battery: `bluetooth_sensor_battery_level` is a level only
when `bluetooth_sensor` is true; otherwise it is unknown (None), never 0 %.
"""

import datetime as dt
import hashlib
import json
from dataclasses import dataclass
from zoneinfo import ZoneInfo

from apps.integrations.mapping import MappingError

TIME_FORMAT = "%Y-%m-%d %H:%M:%S"
DOOR_STATES = {"OPEN": "open", "CLOSED": "closed"}
RELATIONSHIPS = {"owner": "Owner", "admin": "Admin", "has access": "Has Access"}


@dataclass(frozen=True)
class ControllerValues:
    external_id: str
    blackbox_code: str
    software_version: str
    active: bool
    registered: bool | None
    last_contact: dt.datetime | None
    time_before_door_open_alert: int | None  # seconds
    entities_controlled: int | None  # as the remote says; may differ from the doors listed


@dataclass(frozen=True)
class DoorValues:
    external_id: str
    display_name: str
    active: bool
    door_state: str  # open | closed | unknown
    last_toggled: dt.datetime | None
    battery_level: int | None  # percent; None = unknown
    entity_number: int | None
    auto_close_enabled: bool
    auto_close_delay_seconds: int | None
    user_relationship: str
    controller: ControllerValues
    digest: str  # of the door and its controller's fields: an unchanged door is skipped


def record_digest(controller: dict, door: dict) -> str:
    """SHA-256 of the door and its controller (without the other doors), sorted-key JSON."""
    own = {key: value for key, value in controller.items() if key != "doors"}
    text = json.dumps({"controller": own, "door": door}, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(text.encode()).hexdigest()


def parse_time(value, *, field: str, site_tz: str = "UTC") -> dt.datetime | None:
    """`YYYY-MM-DD HH:MM:SS` in `site_tz` -> aware UTC datetime; "" / None = unknown."""
    if value in (None, ""):
        return None
    if not isinstance(value, str):
        raise MappingError(field, value, "must be a `YYYY-MM-DD HH:MM:SS` string")
    try:
        naive = dt.datetime.strptime(value.strip(), TIME_FORMAT)
    except ValueError:
        raise MappingError(field, value, "must be `YYYY-MM-DD HH:MM:SS`") from None
    return naive.replace(tzinfo=ZoneInfo(site_tz)).astimezone(dt.UTC)


def _flag(record: dict, key: str, *, field: str, default: bool | None = None) -> bool | None:
    value = record.get(key, default)
    if value is None or isinstance(value, bool):
        return value
    raise MappingError(field, value, "must be true or false")


def _count(record: dict, key: str, *, field: str) -> int | None:
    value = record.get(key)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise MappingError(field, value, "must be a whole number, 0 or more")
    return value


def _text(record: dict, key: str, *, field: str, required: bool = False) -> str:
    value = record.get(key)
    if value is None or value == "":
        if required:
            raise MappingError(field, value, "is required")
        return ""
    if not isinstance(value, str | int) or isinstance(value, bool):
        raise MappingError(field, value, "must be a string")
    return str(value)


def relationship_label(value) -> str:
    """Owner / Admin / Has Access (any case); another value is shown as received."""
    if not isinstance(value, str):
        return "" if value is None else str(value)
    return RELATIONSHIPS.get(value.strip().lower(), value)


def controller_from_parqex(record: dict, *, index: int, site_tz: str = "UTC") -> ControllerValues:
    at = f"devices[{index}]"
    return ControllerValues(
        external_id=_text(record, "id", field=f"{at}.id", required=True),
        blackbox_code=_text(record, "blackbox_code", field=f"{at}.blackbox_code"),
        software_version=_text(record, "software_version", field=f"{at}.software_version"),
        active=_flag(record, "active", field=f"{at}.active", default=True),
        registered=_flag(record, "registered", field=f"{at}.registered"),
        last_contact=parse_time(record.get("last_contact"), field=f"{at}.last_contact", site_tz=site_tz),
        time_before_door_open_alert=_count(
            record, "time_before_door_open_alert", field=f"{at}.time_before_door_open_alert"
        ),
        entities_controlled=_count(
            record, "number_of_entities_controlled", field=f"{at}.number_of_entities_controlled"
        ),
    )


def door_from_parqex(controller: dict, door: dict, *, index: int, door_index: int, site_tz: str = "UTC") -> DoorValues:
    """One door of `controller` (devices[index].doors[door_index]) as a lock, or MappingError."""
    owner = controller_from_parqex(controller, index=index, site_tz=site_tz)
    at = f"devices[{index}].doors[{door_index}]"
    name = _text(door, "name", field=f"{at}.name").strip()
    external_id = _text(door, "id", field=f"{at}.id", required=True)
    state = door.get("state")
    sensor = _flag(door, "bluetooth_sensor", field=f"{at}.bluetooth_sensor", default=False)
    battery = None
    if sensor:
        battery = _count(door, "bluetooth_sensor_battery_level", field=f"{at}.bluetooth_sensor_battery_level")
        if battery is not None and battery > 100:
            raise MappingError(f"{at}.bluetooth_sensor_battery_level", battery, "must be a percentage, 0 to 100")
    door_active = _flag(door, "active", field=f"{at}.active", default=True)
    return DoorValues(
        external_id=external_id,
        display_name=name[:200] or f"Door {door.get('entity_number') or external_id}",
        active=bool(door_active and owner.active),
        door_state=DOOR_STATES.get(state.upper(), "unknown") if isinstance(state, str) else "unknown",
        last_toggled=parse_time(door.get("last_toggled"), field=f"{at}.last_toggled", site_tz=site_tz),
        battery_level=battery,
        entity_number=_count(door, "entity_number", field=f"{at}.entity_number"),
        auto_close_enabled=bool(_flag(door, "door_auto_close_enabled", field=f"{at}.door_auto_close_enabled")),
        auto_close_delay_seconds=_count(door, "door_auto_close_delay", field=f"{at}.door_auto_close_delay"),
        user_relationship=relationship_label(door.get("user_relationship")),
        controller=owner,
        digest=record_digest(controller, door),
    )


def doors_from_sync(devices: list[dict], *, site_tz: str = "UTC") -> list[DoorValues | MappingError]:
    """Every door of every controller, in order; a door that cannot be read is its MappingError."""
    out: list[DoorValues | MappingError] = []
    for index, controller in enumerate(devices):
        for door_index, door in enumerate(controller.get("doors") or []):
            try:
                out.append(door_from_parqex(controller, door, index=index, door_index=door_index, site_tz=site_tz))
            except MappingError as exc:
                exc.door_id = door.get("id") if isinstance(door.get("id"), str) else None
                out.append(exc)
    return out
