"""PURE: the AddAccessibleLock body (seed 003) read into typed values, or `Refused(field, reason)`.

Times are RFC 3339 with an offset (`2026-05-01T09:00:00+02:00`, `…Z`); a bare date
(`2026-05-01`) means that whole day in the property's zone: `validFrom` its first instant,
`validUntil` the first instant of the next day.
"""

import datetime as dt
import re
from dataclasses import dataclass
from zoneinfo import ZoneInfo

LEVELS = ("OWNER", "ADMIN", "USER", "GUEST")
GRANTED_BY_MAX = 200
_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")
_DATETIME = re.compile(
    r"[0-9]{4}-[0-9]{2}-[0-9]{2}[Tt ][0-9]{2}:[0-9]{2}:[0-9]{2}(?:\.[0-9]{1,6})?(?:[Zz]|[+-][0-9]{2}:[0-9]{2})"
)


class Refused(Exception):
    def __init__(self, field: str, reason: str, status: int = 400):
        super().__init__(f"{field}: {reason}")
        self.field, self.reason, self.status = field, reason, status


@dataclass(frozen=True)
class AddAccessibleLock:
    lock_id: str
    lock_name: str
    access_level: str
    valid_from_text: str | None
    valid_until_text: str | None
    granted_by: str


def _string(body: dict, name: str, *, required: bool) -> str | None:
    value = body.get(name)
    if value is None:
        if required:
            raise Refused(name, "required")
        return None
    if not isinstance(value, str):
        raise Refused(name, "must be a string")
    if required and not value.strip():
        raise Refused(name, "required")
    return value


def parse_body(body) -> AddAccessibleLock:
    if not isinstance(body, dict):
        raise Refused("body", "must be a JSON object")
    lock_id = _string(body, "lockId", required=True)
    level = _string(body, "accessLevel", required=True)
    if level not in LEVELS:
        raise Refused("accessLevel", f"must be one of {', '.join(LEVELS)}")
    granted_by = _string(body, "grantedBy", required=True)
    if len(granted_by) > GRANTED_BY_MAX:
        raise Refused("grantedBy", f"at most {GRANTED_BY_MAX} characters")
    granted_by = granted_by.strip()
    lock_name = _string(body, "lockName", required=False) or ""
    return AddAccessibleLock(
        lock_id=lock_id.strip(),
        lock_name=lock_name,
        access_level=level,
        valid_from_text=_string(body, "validFrom", required=False) or None,
        valid_until_text=_string(body, "validUntil", required=False) or None,
        granted_by=granted_by,
    )


def parse_time(value: str | None, *, field: str, zone: str, end: bool) -> dt.datetime | None:
    """An aware UTC datetime; a bare date is the day's start (or, with `end`, the next day's start)."""
    if value is None:
        return None
    value = value.strip()
    if _DATE.fullmatch(value):
        try:
            day = dt.date.fromisoformat(value)
        except ValueError:
            raise Refused(field, f"not a date: {value!r}") from None
        if end:
            day += dt.timedelta(days=1)
        try:
            return dt.datetime.combine(day, dt.time(), tzinfo=ZoneInfo(zone)).astimezone(dt.UTC)
        except OverflowError:  # a day at the very edge of the calendar
            raise Refused(field, f"out of range: {value!r}") from None
    if not _DATETIME.fullmatch(value):
        raise Refused(field, "must be an RFC 3339 date-time with an offset, or a date (YYYY-MM-DD)")
    try:
        return dt.datetime.fromisoformat(value.replace("z", "Z")).astimezone(dt.UTC)
    except OverflowError:
        raise Refused(field, f"out of range: {value!r}") from None
    except ValueError:
        raise Refused(field, f"not a date-time: {value!r}") from None
