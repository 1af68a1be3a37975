"""PURE: Lockt SecureAccess records → typed Keyhouse-side values (docs/INTEGRATIONS.md "Lockt mapping").

One function per Lockt record kind; each takes the record as read (a dict from the JSON) and
returns a frozen dataclass named after what it becomes in Keyhouse, or raises `MappingError`
naming the field, the value and the reason. No ORM, no Django, no clock: the sync (later)
decides what to write through the domain services. The §10.9 read quirks are normalized here:

- ids arrive as numbers or numeric strings → `int` (booleans, zero and negatives refused);
- card numbers → digit strings, `""` → None; they never appear in an error message;
- booleans `true`/`false`/`"true"`/`"false"` (any case);
- date-times: `""` → None; ISO-8601 with `Z` or an offset; `YYYY-MM-DD HH:MM:SS` or
  `YYYY-MM-DD` without a zone are wall-clock time in the site's zone (`site_tz`, default UTC;
  spec §9.12);
- user `accesslevels[]` items carry `id` or `unid` (A30); an access level's `doors` may be
  missing (= none) and carry `schedule_id` or not (A28); a credential's `user` is an object or
  a list of at most one (A31); an event's time is `hw_time`, else `event_time` (A32).

Decisions (the spec leaves them open; each is argued in docs/INTEGRATIONS.md):

- A user record without `first_name`/`last_name`/`email` but with `name` is fob-shaped (A29):
  refused for the user list (`field="name"`), never turned into a person.
- `enabled` missing (list reads omit it) → `blocked=None`: unknown, keep what Keyhouse has.
- A user's window with `access_effective` ≥ `access_expires` is refused (`access_expires`).
- An access level named `delegate_` + 32 hex digits is a delegate level (§3.2).
- Events: code 48 → granted, 49 → denied, anything else → `outcome=None` (not an access log).
"""

import datetime as dt
import hashlib
import json
import re
from dataclasses import dataclass
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from apps.access.schedules import Schedule
from apps.integrations.lockt import schedules as lockt_schedules
from apps.integrations.mapping import LossyMappingError, MappingError, VendorFormatError

UTC = dt.UTC
EMAIL_RE = re.compile(r"[^@\s]+@[^@\s]+\.[^@\s.]+")
DELEGATE_NAME_RE = re.compile(r"delegate_[0-9a-f]{32}")
EVENT_GRANTED, EVENT_DENIED = 48, 49
CLAIM_STATUSES = {"claimed": True, "unclaimed": False}
_LOCAL_FORMATS = ("%Y-%m-%d %H:%M:%S", "%Y-%m-%d")


# --- Keyhouse-side values -------------------------------------------------------------------------


@dataclass(frozen=True)
class UserValues:
    """A Lockt user as a Keyhouse user: who, whether blocked, and the window of its Lockt-derived access."""

    external_id: int
    id_num: str | None  # the remote's external id: Keyhouse's user id for users Keyhouse pushed
    email: str
    display_name: str
    phone: str
    blocked: bool | None  # None: the record did not say (`enabled` absent)
    valid_from: dt.datetime | None
    valid_until: dt.datetime | None
    group_external_ids: tuple[int, ...]  # its access levels (custom groups; delegate levels too)
    credentials: tuple["CredentialValues", ...]  # only the single-user reads carry them


@dataclass(frozen=True)
class GroupDoor:
    """One (door, schedule) of an access level: an access-list entry `group` on the door's area."""

    door_external_id: int
    schedule_external_id: int | None  # None: the read did not say (A28); the sync fails closed


@dataclass(frozen=True)
class GroupValues:
    """A Lockt access level as a Keyhouse custom user group and the doors it opens."""

    external_id: int
    display_name: str
    doors: tuple[GroupDoor, ...]
    delegate: bool


@dataclass(frozen=True)
class LockValues:
    """A Lockt door as a Keyhouse lock (in its own common area of the account's property)."""

    external_id: int
    display_name: str
    enabled: bool
    location: str
    door_type: str
    controller: str


@dataclass(frozen=True)
class BatteryValues:
    """A `/doorstate` row: the door's battery as a fraction 0..1."""

    external_id: int
    level: float


@dataclass(frozen=True)
class ScheduleValues:
    """A Lockt schedule as one weekly window (apps/integrations/lockt/schedules.py)."""

    external_id: int
    display_name: str
    schedule: Schedule


@dataclass(frozen=True)
class CredentialValues:
    """A Lockt credential or fob as a read-only credential record on its holder."""

    external_id: int
    holder_external_id: int | None
    card_number: str | None
    name: str
    claimed: bool | None  # None: not stated (fobs, user detail items)
    fob: bool
    valid_from: dt.datetime | None = None
    valid_until: dt.datetime | None = None

    def __repr__(self) -> str:  # card numbers stay out of logs, reprs included
        return f"CredentialValues(external_id={self.external_id}, fob={self.fob}, holder={self.holder_external_id})"


@dataclass(frozen=True)
class DelegateValues:
    """A delegate access level: time-bound door grants to the users holding it."""

    external_id: int
    name: str
    door_external_ids: tuple[int, ...]
    valid_from: dt.datetime | None
    valid_until: dt.datetime | None


@dataclass(frozen=True)
class AccessLogValues:
    """A Lockt event: an access log on the lock named `door_name` when `outcome` is set."""

    external_id: int
    door_name: str
    outcome: str | None  # "granted" (48), "denied" (49), None (another code: an event only)
    occurred_at: dt.datetime
    received_at: dt.datetime | None
    code: int
    code_text: str
    subcode: int | None
    subcode_text: str
    person_name: str
    card_number: str | None

    def __repr__(self) -> str:
        return f"AccessLogValues(external_id={self.external_id}, outcome={self.outcome}, door={self.door_name!r})"


# --- records ----------------------------------------------------------------------------------------


def user_from_lockt(record: dict, *, site_tz: str = "UTC") -> UserValues:
    """Spec F35/F39/F40 user → UserValues; refuses fob-shaped records (A29)."""
    _require_object(record, "user")
    if "name" in record and not any(k in record for k in ("first_name", "last_name", "email")):
        raise MappingError("name", record["name"], "fob-shaped record in the user list (A29): a fob, not a person")
    first, last = _text(record, "first_name"), _text(record, "last_name")
    display_name = " ".join(part for part in (first, last) if part)
    if not display_name:
        raise MappingError("first_name", record.get("first_name"), "first_name and last_name are both empty")
    email = _text(record, "email")
    if not EMAIL_RE.fullmatch(email):
        raise MappingError("email", record.get("email"), "not an email address")
    valid_from = _instant(record, "access_effective", site_tz)
    valid_until = _instant(record, "access_expires", site_tz)
    if valid_from and valid_until and valid_from >= valid_until:
        raise MappingError("access_expires", record.get("access_expires"), "is not after access_effective")
    enabled = record.get("enabled")
    return UserValues(
        external_id=_id(record, "id"),
        id_num=_text(record, "id_num") or None,
        email=email,
        display_name=display_name,
        phone=_text(record, "phone"),
        blocked=None if enabled is None else not _bool(enabled, "enabled"),
        valid_from=valid_from,
        valid_until=valid_until,
        group_external_ids=_level_ids(record),
        credentials=tuple(
            _user_credential(item, f"credentials[{i}]", holder=_id(record, "id"))
            for i, item in enumerate(_list(record, "credentials"))
        ),
    )


def group_from_lockt(record: dict) -> GroupValues:
    """Spec F02/F03 access level → GroupValues (`doors` missing = none, A28)."""
    _require_object(record, "accesslevel")
    name = _text(record, "name")
    if not name:
        raise MappingError("name", record.get("name"), "an access level needs a name")
    doors = []
    for i, item in enumerate(_list(record, "doors")):
        _require_object(item, f"doors[{i}]")
        schedule = item.get("schedule_id")
        doors.append(
            GroupDoor(
                door_external_id=_id(item, "id", f"doors[{i}].id"),
                schedule_external_id=None
                if schedule in (None, "")
                else _id(item, "schedule_id", f"doors[{i}].schedule_id"),
            )
        )
    return GroupValues(
        external_id=_id(record, "id"),
        display_name=name,
        doors=tuple(doors),
        delegate=bool(DELEGATE_NAME_RE.fullmatch(name)),
    )


def lock_from_lockt(record: dict) -> LockValues:
    """Spec F17 door → LockValues."""
    _require_object(record, "door")
    name = _text(record, "name")
    if not name:
        raise MappingError("name", record.get("name"), "a door needs a name")
    return LockValues(
        external_id=_id(record, "id"),
        display_name=name,
        enabled=_bool(record.get("enabled", True), "enabled"),
        location=_text(record, "location"),
        door_type=_text(record, "type"),
        controller=_text(record, "controller"),
    )


def battery_from_lockt(record: dict) -> BatteryValues:
    """Spec F19 `/doorstate` row → BatteryValues (a 0..1 fraction)."""
    _require_object(record, "doorstate")
    level = record.get("battery_level")
    if isinstance(level, bool) or not isinstance(level, int | float) or not 0 <= level <= 1:
        raise MappingError("battery_level", level, "must be a number from 0 to 1")
    return BatteryValues(external_id=_id(record, "id"), level=float(level))


def schedule_from_lockt(record: dict) -> ScheduleValues:
    """Spec F33 schedule → one weekly window; a shape Keyhouse cannot hold is refused, naming it."""
    _require_object(record, "schedule")
    try:
        schedule = lockt_schedules.from_lockt(record)
    except LossyMappingError as exc:
        raise MappingError("schedule", _schedule_text(record), str(exc)) from None
    except VendorFormatError as exc:
        raise MappingError(exc.field, record.get(exc.field), exc.message) from None
    return ScheduleValues(external_id=_id(record, "id"), display_name=_text(record, "name"), schedule=schedule)


def credential_from_lockt(record: dict) -> CredentialValues:
    """Spec F07 credential → CredentialValues (`user` an object or a list of at most one, A31)."""
    _require_object(record, "credential")
    holder = record.get("user")
    if isinstance(holder, list):
        if len(holder) > 1:
            raise MappingError("user", f"{len(holder)} holders", "a credential has at most one holder")
        holder = holder[0] if holder else None
    holder_id = None
    if holder not in (None, {}, ""):
        _require_object(holder, "user")
        holder_id = _id(holder, "id", "user.id")
    status = record.get("claim_status")
    claimed = None
    if status not in (None, ""):
        if not isinstance(status, str) or status.lower() not in CLAIM_STATUSES:
            raise MappingError("claim_status", status, "must be Claimed or Unclaimed")
        claimed = CLAIM_STATUSES[status.lower()]
    return CredentialValues(
        external_id=_id(record, "id"),
        holder_external_id=holder_id,
        card_number=_card(record, "card_num"),
        name=_text(record, "name"),
        claimed=claimed,
        fob=False,
    )


def fob_from_lockt(record: dict, *, site_tz: str = "UTC", holder_external_id: int | None = None) -> CredentialValues:
    """Spec F27 fob → CredentialValues with `fob=True` and its access window (the holder comes
    from the users' `credentials`, since a fob read does not name it)."""
    _require_object(record, "fob")
    valid_from = _instant(record, "access_effective", site_tz)
    valid_until = _instant(record, "access_expires", site_tz)
    if valid_from and valid_until and valid_from >= valid_until:
        raise MappingError("access_expires", record.get("access_expires"), "is not after access_effective")
    return CredentialValues(
        external_id=_id(record, "id"),
        holder_external_id=holder_external_id,
        card_number=_card(record, "card_num"),
        name=_text(record, "name"),
        claimed=None,
        fob=True,
        valid_from=valid_from,
        valid_until=valid_until,
    )


def delegate_from_lockt(record: dict, *, site_tz: str = "UTC") -> DelegateValues:
    """Spec F11 delegate level → DelegateValues; its holders are the users listing it (A49)."""
    _require_object(record, "delegate")
    valid_from = _instant(record, "access_effective", site_tz)
    valid_until = _instant(record, "access_expires", site_tz)
    if valid_from and valid_until and valid_from >= valid_until:
        raise MappingError("access_expires", record.get("access_expires"), "is not after access_effective")
    doors = _list(record, "doors")
    for i, item in enumerate(doors):
        _require_object(item, f"doors[{i}]")
    return DelegateValues(
        external_id=_id(record, "id"),
        name=_text(record, "name"),
        door_external_ids=tuple(_id(item, "id", f"doors[{i}].id") for i, item in enumerate(doors)),
        valid_from=valid_from,
        valid_until=valid_until,
    )


def access_log_from_lockt(record: dict, *, site_tz: str = "UTC") -> AccessLogValues:
    """Spec F20/F21 event → AccessLogValues (48 granted, 49 denied; occurred `hw_time`, received `db_time`)."""
    _require_object(record, "event")
    time_field = "hw_time" if record.get("hw_time") not in (None, "") else "event_time"
    occurred = _instant(record, time_field, site_tz)
    if occurred is None:
        raise MappingError("hw_time", record.get("hw_time"), "an event needs hw_time (or event_time)")
    code = _int(record, "code")
    subcode = record.get("subcode")
    return AccessLogValues(
        external_id=_id(record, "id"),
        door_name=_text(record, "device"),
        outcome={EVENT_GRANTED: "granted", EVENT_DENIED: "denied"}.get(code),
        occurred_at=occurred,
        received_at=_instant(record, "db_time", site_tz),
        code=code,
        code_text=_text(record, "code_text"),
        subcode=None if subcode in (None, "") else _int(record, "subcode"),
        subcode_text=_text(record, "subcode_text"),
        person_name=_text(record, "user"),
        card_number=_card(record, "card_num"),
    )


def record_digest(record: dict) -> str:
    """SHA-256 of a record's canonical JSON (sorted keys): a link stores it, and an unchanged
    record is not applied again."""
    return hashlib.sha256(
        json.dumps(record, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()
    ).hexdigest()


# --- readers --------------------------------------------------------------------------------------


def _require_object(value, field: str) -> None:
    if not isinstance(value, dict):
        raise MappingError(field, value, "must be an object")


def _id(record: dict, key: str, field: str | None = None) -> int:
    field = field or key
    value = record.get(key)
    if isinstance(value, str) and value.strip().isdigit():
        value = int(value.strip())
    if isinstance(value, bool) or not isinstance(value, int) or value <= 0:
        raise MappingError(field, value, "must be a positive integer id")
    return value


def _int(record: dict, key: str) -> int:
    value = record.get(key)
    if isinstance(value, str) and re.fullmatch(r"-?[0-9]+", value.strip()):
        value = int(value)
    if isinstance(value, bool) or not isinstance(value, int):
        raise MappingError(key, value, "must be an integer")
    return value


def _text(record: dict, key: str) -> str:
    value = record.get(key, "")
    if value is None:
        return ""
    if isinstance(value, int | float) and not isinstance(value, bool):
        return str(value)  # id_num "329359" sometimes arrives as a number
    if not isinstance(value, str):
        raise MappingError(key, value, "must be text")
    return value.strip()


def _bool(value, field: str) -> bool:
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.strip().lower() in ("true", "false"):
        return value.strip().lower() == "true"
    raise MappingError(field, value, "must be true or false")


def _card(record: dict, key: str) -> str | None:
    value = record.get(key, "")
    if isinstance(value, int) and not isinstance(value, bool) and value >= 0:
        return str(value)  # POST /fob sends a number (§2.10)
    if value in (None, ""):
        return None
    if not isinstance(value, str) or not value.strip().isdigit():
        raise MappingError(key, value, "must be a card number (digits only)")
    return value.strip()


def _list(record: dict, key: str) -> list:
    value = record.get(key)
    if value is None:
        return []
    if not isinstance(value, list):
        raise MappingError(key, value, "must be a list")
    return value


def _level_ids(record: dict) -> tuple[int, ...]:
    ids = []
    for i, item in enumerate(_list(record, "accesslevels")):
        _require_object(item, f"accesslevels[{i}]")
        key = "id" if item.get("id") not in (None, "") else "unid"  # A30: detail reads say `unid`
        ids.append(_id(item, key, f"accesslevels[{i}].{key}"))
    return tuple(dict.fromkeys(ids))


def _user_credential(item, field: str, *, holder: int) -> CredentialValues:
    _require_object(item, field)
    try:
        return CredentialValues(
            external_id=_id(item, "id"),
            holder_external_id=holder,
            card_number=_card(item, "card_num"),
            name=_text(item, "name"),
            claimed=None,
            fob=_bool(item.get("fob", False), "fob"),
        )
    except MappingError as exc:
        raise MappingError(f"{field}.{exc.field}", exc.value, exc.reason) from None


def _zone(site_tz: str) -> dt.tzinfo:
    try:
        return UTC if site_tz == "UTC" else ZoneInfo(site_tz)
    except (ZoneInfoNotFoundError, ValueError):
        raise ValueError(f"unknown time zone {site_tz!r}") from None


def _instant(record: dict, key: str, site_tz: str) -> dt.datetime | None:
    """`""`/missing → None; ISO-8601 with zone; or zoneless local forms in the site's zone."""
    value = record.get(key, "")
    if value in (None, ""):
        return None
    if not isinstance(value, str):
        raise MappingError(key, value, "must be a date-time text")
    text = value.strip()
    for fmt in _LOCAL_FORMATS:
        try:
            return dt.datetime.strptime(text, fmt).replace(tzinfo=_zone(site_tz)).astimezone(UTC)
        except ValueError:
            continue
    try:
        parsed = dt.datetime.fromisoformat(text.replace("Z", "+00:00") if text.endswith("Z") else text)
    except ValueError:
        parsed = None
    if parsed is None or parsed.tzinfo is None:
        raise MappingError(key, value, "must be YYYY-MM-DD HH:MM:SS or ISO-8601 with a zone")
    return parsed.astimezone(UTC)


def _schedule_text(record: dict) -> str:
    days = "".join(str(record.get(bit, "?")) for bit in lockt_schedules.DAY_BITS)
    return f"d0..d6={days} {record.get('start')}-{record.get('stop')}"
